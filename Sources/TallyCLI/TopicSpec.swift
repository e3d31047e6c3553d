import ArgumentParser

/// `NAME:PARTITIONS`, as `tally broker --topic orders:4` takes it.
struct TopicSpec: ExpressibleByArgument {
    var name: String
    var partitions: Int

    init?(argument: String) {
        guard let colon = argument.lastIndex(of: ":"),
            let partitions = Int(argument[argument.index(after: colon)...]), partitions > 0,
            colon != argument.startIndex
        else { return nil }
        name = String(argument[..<colon])
        self.partitions = partitions
    }
}
