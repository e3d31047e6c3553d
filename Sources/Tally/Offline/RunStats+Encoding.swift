extension RunStats {
    /// Compact text form stored at checkpoints: `read=…;counted=…;filtered=…;late=…;emitted=…;<reason>=…`.
    public func encoded() -> [UInt8] {
        var parts = ["read=\(read)", "counted=\(counted)", "filtered=\(filtered)", "late=\(late)", "emitted=\(emitted)"]
        for (r, n) in rejectedBy.sorted(by: { $0.key < $1.key }) { parts.append("\(r.rawValue)=\(n)") }
        return Array(parts.joined(separator: ";").utf8)
    }

    /// Reads the form written by `encoded()`.
    public init?(encoded bytes: [UInt8]) {
        self.init()
        for part in String(decoding: bytes, as: UTF8.self).split(separator: ";") {
            let kv = part.split(separator: "=")
            guard kv.count == 2, let n = Int(kv[1]) else { return nil }
            switch kv[0] {
            case "read": read = n
            case "counted": counted = n
            case "filtered": filtered = n
            case "late": late = n
            case "emitted": emitted = n
            default:
                guard let r = RejectReason(rawValue: String(kv[0])) else { return nil }
                rejectedBy[r] = n
            }
        }
    }
}
