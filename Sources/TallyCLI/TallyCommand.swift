import ArgumentParser
import Kafka
import Tally

/// `tally`: the root command; each subcommand lives in its own file.
@main
struct TallyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tally",
        abstract: "Real-time windowed aggregation over Kafka, declared in JSON.",
        version: "\(TallyInfo.version) (librdkafka \(Librdkafka.version))",
        subcommands: [
            BrokerCommand.self,
            RunCommand.self,
            ProduceCommand.self,
            CheckCommand.self,
            TestCommand.self,
            BenchCommand.self,
        ])
}
