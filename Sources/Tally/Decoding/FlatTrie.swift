/// A `FieldPlan`'s trie laid out in flat buffers that the scanner reads without reference
/// counting: per node its slot, its children (name bytes and node) and the slots beneath it.
final class FlatTrie {
    let slot: UnsafeMutableBufferPointer<Int>
    let childStart: UnsafeMutableBufferPointer<Int>
    let childCount: UnsafeMutableBufferPointer<Int>
    let childNode: UnsafeMutableBufferPointer<Int>
    let nameStart: UnsafeMutableBufferPointer<Int>
    let nameLength: UnsafeMutableBufferPointer<Int>
    let names: UnsafeMutableBufferPointer<UInt8>
    let subtreeStart: UnsafeMutableBufferPointer<Int>
    let subtreeCount: UnsafeMutableBufferPointer<Int>
    let subtree: UnsafeMutableBufferPointer<Int>

    init(_ plan: FieldPlan) {
        let nodes = plan.nodes
        func buffer<T>(_ values: [T]) -> UnsafeMutableBufferPointer<T> {
            let b = UnsafeMutableBufferPointer<T>.allocate(capacity: max(values.count, 1))
            _ = b.initialize(from: values)
            return b
        }
        var childStarts: [Int] = [], children: [Int] = [], nameStarts: [Int] = [], nameLengths: [Int] = []
        var nameBytes: [UInt8] = [], subStarts: [Int] = [], subs: [Int] = []
        for n in nodes {
            childStarts.append(children.count)
            for c in n.children {
                children.append(c.node)
                nameStarts.append(nameBytes.count)
                nameLengths.append(c.key.count)
                nameBytes += c.key
            }
            subStarts.append(subs.count)
            subs += n.subtree
        }
        slot = buffer(nodes.map(\.slot))
        childStart = buffer(childStarts)
        childCount = buffer(nodes.map(\.children.count))
        childNode = buffer(children)
        nameStart = buffer(nameStarts)
        nameLength = buffer(nameLengths)
        names = buffer(nameBytes)
        subtreeStart = buffer(subStarts)
        subtreeCount = buffer(nodes.map(\.subtree.count))
        subtree = buffer(subs)
    }

    deinit {
        for b in [slot, childStart, childCount, childNode, nameStart, nameLength, subtreeStart, subtreeCount, subtree] {
            b.deallocate()
        }
        names.deallocate()
    }

    /// The child of `node` whose name is `name`, or -1.
    @inline(__always) func child(of node: Int, named name: UnsafeBufferPointer<UInt8>) -> Int {
        let first = childStart[node]
        let n = name.count
        guard let key = name.baseAddress else { return -1 }
        for c in first..<(first + childCount[node]) where nameLength[c] == n {
            if Self.equal(names.baseAddress! + nameStart[c], key, count: n) { return childNode[c] }
        }
        return -1
    }

    /// Whether `count` bytes at `a` and `b` are equal, compared eight at a time.
    @inline(__always) static func equal(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, count: Int) -> Bool {
        var i = 0
        while i + 8 <= count {
            let x = UnsafeRawPointer(a + i).loadUnaligned(as: UInt64.self)
            let y = UnsafeRawPointer(b + i).loadUnaligned(as: UInt64.self)
            if x != y { return false }
            i += 8
        }
        while i < count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    /// Marks every slot at or under `node` missing.
    @inline(__always) func clearSubtree(_ node: Int, in fields: UnsafeMutableBufferPointer<FieldValue>) {
        let first = subtreeStart[node]
        for i in first..<(first + subtreeCount[node]) { fields[subtree[i]].kind = .missing }
    }
}
