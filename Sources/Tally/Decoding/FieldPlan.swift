/// The fields to extract from events of one topic, compiled once into a trie of path segments so
/// that an event is read in a single pass and only wanted values are decoded.
public struct FieldPlan: Sendable {
    struct Node: Sendable {
        var children: [(key: [UInt8], node: Int)] = []
        var slot: Int = -1
        /// Slots of this node and everything under it, cleared when a duplicate key repeats it.
        var subtree: [Int] = []
    }

    var nodes: [Node] = [Node()]
    /// The paths, in slot order.
    public private(set) var paths: [FieldPath] = []

    /// An empty plan.
    public init() {}

    /// A plan for `paths`; each distinct path gets a slot.
    public init(_ paths: [FieldPath]) {
        for p in paths { _ = slot(for: p) }
    }

    /// The slot of `path`, adding it when new.
    public mutating func slot(for path: FieldPath) -> Int {
        if let i = paths.firstIndex(of: path) { return i }
        var node = 0
        var visited = [0]
        for seg in path.segments {
            if let child = nodes[node].children.first(where: { $0.key == seg }) {
                node = child.node
            } else {
                nodes.append(Node())
                nodes[node].children.append((seg, nodes.count - 1))
                node = nodes.count - 1
            }
            visited.append(node)
        }
        let slot = paths.count
        paths.append(path)
        nodes[node].slot = slot
        for n in visited.dropFirst() { nodes[n].subtree.append(slot) }
        return slot
    }

    /// Number of slots.
    public var count: Int { paths.count }
}
