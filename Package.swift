// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "Tally",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "tally", targets: ["TallyCLI"]),
        .library(name: "Tally", targets: ["Tally"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // Without its default traits: "FullFoundation" would link Foundation and its ICU data
        // (34 MB) for URL-encoded form dates we never use; "ConfigurationSupport" is unused too.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1", traits: []),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        // Already in the graph through Hummingbird; named for MalformedRequestHandler's NIO types.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
    ],
    targets: [
        // C libraries from Debian (librdkafka-dev, librocksdb-dev), found through pkg-config.
        .systemLibrary(
            name: "CRdKafka", pkgConfig: "rdkafka",
            providers: [.apt(["librdkafka-dev"])]),
        .systemLibrary(
            name: "CRocksDB", pkgConfig: "rocksdb",
            providers: [.apt(["librocksdb-dev"])]),
        // One thin Swift owner per C object; no C type leaves these modules.
        .target(
            name: "Kafka", dependencies: ["CRdKafka"],
            swiftSettings: [
                // As in Tally: a message batch is read on the engine loop's thread only, and the
                // dynamic checks on its properties cost ~5% of that thread live (perf).
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
            ]),
        .target(name: "RocksDB", dependencies: ["CRocksDB"]),
        // The engine: definitions, decoding, windowing (pure), state, the engine loop, the query interface.
        .target(
            name: "Tally",
            dependencies: [
                "Kafka", "RocksDB",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: [
                // The engine loop is single-threaded and owns its state; dynamic exclusivity checks
                // on class properties cost ~17% of the offline hot path (measured with perf).
                .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release))
            ]),
        // The HTTP API (SPEC §5) over the engine's `QueryService`, and the Prometheus registry.
        .target(
            name: "TallyHTTP",
            dependencies: [
                "Tally",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            ]),
        .executableTarget(
            name: "TallyCLI",
            dependencies: [
                "Tally", "TallyHTTP", "Kafka",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]),
        .testTarget(name: "TallyTests", dependencies: ["Tally", "Kafka"]),
        .testTarget(
            name: "TallyHTTPTests",
            dependencies: [
                "TallyHTTP",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]),
        .testTarget(name: "KafkaTests", dependencies: ["Kafka"]),
        .testTarget(name: "TallyCLITests", dependencies: ["TallyCLI"]),
        .testTarget(name: "RocksDBTests", dependencies: ["RocksDB"]),
    ]
)
