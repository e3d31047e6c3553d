import CRdKafka

/// The librdkafka this process loaded (which may differ from the headers Tally was built with:
/// the same soname from another build, through `LD_LIBRARY_PATH`).
public enum Librdkafka {
    /// Its version, e.g. `2.0.2`.
    public static var version: String { String(cString: rd_kafka_version_str()) }
}
