/// One record of a shard's changelog (docs/scale-out.md, "Shard state: local store and
/// changelog"). A checkpoint writes its changes to the shard's local state as puts, deletes and
/// dropped spills, then a marker; every record carries the checkpoint id in a header.
///
/// Kafka keys, by their first byte:
/// - `0x01 …` / `0x02 …` / `0x03 …`: a local state key (`StateKeys`): a slice accumulator, a
///   bucket of closed results (its whole blob, so that the last put of a key is its value) or a
///   spilled part; the value is the local value, or nil (a tombstone) for a delete
/// - `0x06`: a repartitioned shard's applied source offsets (`StateKeys.routedKey`), put whole
/// - `0x05`: closed results of windows starting before a time are gone (retention); the value is
///   that time (8 bytes, as in StateKeys). One key: compaction keeps the latest, which expires
///   everything the earlier ones did
/// - `0x04 | slice start (8 bytes, as in StateKeys) | checkpoint id u64 BE`: every spilled part of
///   the slice goes; the value is empty. The id makes the key unique per checkpoint, so that
///   compaction never merges two of them
/// - `0x00`: a marker, its value `ChangelogMarker.encoded`
///
/// A local value is never empty (an accumulator holds at least one double), so an empty value
/// under a local key reads as a tombstone: `KafkaMessage.payload` is empty for both.
public enum ChangelogRecord: Hashable, Sendable {
    /// `key` (a slice or spilled-part key) now holds `value` (not empty).
    case put(key: [UInt8], value: [UInt8])
    /// `key` (a slice or spilled-part key) is gone.
    case delete(key: [UInt8])
    /// Every spilled part of the slice starting at `slice` is gone.
    case dropSpilled(slice: Int64)
    /// Every closed result of a window starting before `before` is gone.
    case expireClosed(before: Int64)
    /// The checkpoint `marker.checkpoint` is complete.
    case marker(ChangelogMarker)

    static let markerPrefix: UInt8 = 0x00
    static let dropSpilledPrefix: UInt8 = 0x04
    static let dropSpilledKeyCount = 17
    static let expireClosedPrefix: UInt8 = 0x05
    /// `StateKeys.closed`: prefix, window start, bucket.
    static let closedKeyCount = 10

    /// The Kafka record of this change in checkpoint `checkpoint`. A put's or delete's key must be
    /// a slice, closed-results or spilled-part key, a put's value must not be empty, and a marker
    /// must carry the same checkpoint id.
    public func encode(checkpoint: UInt64) -> ChangelogMessage {
        switch self {
        case .put(let key, let value):
            precondition(Self.isStateKey(key), "a changelog put is of a slice, closed-results or spilled-part key")
            precondition(!value.isEmpty, "a changelog put has a value (empty reads as a tombstone)")
            return ChangelogMessage(key: key, value: value, checkpoint: checkpoint)
        case .delete(let key):
            precondition(Self.isStateKey(key), "a changelog delete is of a slice, closed-results or spilled-part key")
            return ChangelogMessage(key: key, value: nil, checkpoint: checkpoint)
        case .dropSpilled(let slice):
            var key: [UInt8] = [Self.dropSpilledPrefix]
            key.reserveCapacity(Self.dropSpilledKeyCount)
            StateKeys.appendTime(slice, to: &key)
            for i in (0..<8).reversed() { key.append(UInt8(truncatingIfNeeded: checkpoint >> (8 * UInt64(i)))) }
            return ChangelogMessage(key: key, value: [], checkpoint: checkpoint)
        case .expireClosed(let before):
            var value: [UInt8] = []
            StateKeys.appendTime(before, to: &value)
            return ChangelogMessage(key: [Self.expireClosedPrefix], value: value, checkpoint: checkpoint)
        case .marker(let marker):
            precondition(marker.checkpoint == checkpoint, "a marker ends its own checkpoint")
            return ChangelogMessage(key: [Self.markerPrefix], value: marker.encoded, checkpoint: checkpoint)
        }
    }

    /// The change a Kafka record of the changelog stands for. `checkpoint` is the id in its
    /// `tally.checkpoint` header (nil when it has none; `ChangelogMessage.checkpoint(header:)`
    /// reads the header). Throws, naming what is wrong, on a record Tally does not write.
    public static func decode(key: [UInt8], value: [UInt8]?, checkpoint: UInt64?) throws(StateError) -> ChangelogRecord {
        guard let checkpoint else { throw ChangelogMessage.missingCheckpoint }
        guard let first = key.first else { throw StateError("changelog record with an empty key") }
        switch first {
        case StateKeys.routedPrefix:
            guard key.count == 1 else {
                throw StateError("changelog record: applied-offsets key of \(key.count) bytes, expected 1")
            }
            guard let value, !value.isEmpty, StateKeys.parseRouted(value) != nil else {
                throw StateError("changelog record: applied offsets of \(value?.count ?? 0) bytes, expected a multiple of \(StateKeys.routedEntryCount)")
            }
            return .put(key: key, value: value)
        case StateKeys.slicePrefix, StateKeys.spillPrefix, StateKeys.closedPrefix:
            if first == StateKeys.closedPrefix {
                guard key.count == closedKeyCount else {
                    throw StateError("changelog record: closed-results key of \(key.count) bytes, expected \(closedKeyCount)")
                }
            } else if first == StateKeys.slicePrefix {
                guard key.count >= 9 else {
                    throw StateError("changelog record: slice key of \(key.count) bytes, expected at least 9")
                }
            } else {
                guard key.count >= 21 else {
                    throw StateError("changelog record: spilled-part key of \(key.count) bytes, expected at least 21")
                }
                let keyLength = key[9..<13].reduce(0) { $0 << 8 | Int($1) }
                guard key.count == 21 + keyLength else {
                    throw StateError(
                        "changelog record: spilled-part key of \(key.count) bytes for a group key of \(keyLength), expected \(21 + keyLength)")
                }
            }
            guard let value, !value.isEmpty else { return .delete(key: key) }
            return .put(key: key, value: value)
        case dropSpilledPrefix:
            guard key.count == dropSpilledKeyCount else {
                throw StateError("changelog record: dropSpilled key of \(key.count) bytes, expected \(dropSpilledKeyCount)")
            }
            let keyCheckpoint = key[9..<17].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
            guard keyCheckpoint == checkpoint else {
                throw StateError(
                    "changelog record: dropSpilled key of checkpoint \(keyCheckpoint) under header checkpoint \(checkpoint)")
            }
            guard value?.isEmpty ?? true else {
                throw StateError("changelog record: dropSpilled with a value of \(value!.count) bytes, expected none")
            }
            return .dropSpilled(slice: key.withUnsafeBytes { StateKeys.readTime($0, at: 1) })
        case expireClosedPrefix:
            guard key.count == 1 else {
                throw StateError("changelog record: expiry key of \(key.count) bytes, expected 1")
            }
            guard let value, value.count == 8 else {
                throw StateError("changelog record: expiry with a value of \(value?.count ?? 0) bytes, expected 8")
            }
            return .expireClosed(before: value.withUnsafeBytes { StateKeys.readTime($0, at: 0) })
        case markerPrefix:
            guard key.count == 1 else {
                throw StateError("changelog record: marker key of \(key.count) bytes, expected 1")
            }
            guard let value else { throw StateError("changelog record: marker without a value") }
            let marker = try ChangelogMarker(decoding: value)
            guard marker.checkpoint == checkpoint else {
                throw StateError(
                    "changelog record: marker of checkpoint \(marker.checkpoint) under header checkpoint \(checkpoint)")
            }
            return .marker(marker)
        default:
            throw StateError("changelog record: unknown key byte 0x\(String(first, radix: 16)) (not written by this Tally?)")
        }
    }

    /// The change a changelog message stands for; see `decode(key:value:checkpoint:)`.
    public static func decode(_ message: ChangelogMessage) throws(StateError) -> ChangelogRecord {
        try decode(key: message.key, value: message.value, checkpoint: message.checkpoint)
    }

    /// Whether `key` is a slice, closed-results or spilled-part key of the length its layout needs.
    static func isStateKey(_ key: [UInt8]) -> Bool {
        (key.first == StateKeys.slicePrefix && key.count >= 9) || (key.first == StateKeys.spillPrefix && key.count >= 21)
            || (key.first == StateKeys.closedPrefix && key.count == closedKeyCount) || key == StateKeys.routedKey
    }
}
