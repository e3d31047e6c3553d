/// Facts about this build of Tally.
public enum TallyInfo {
    /// The version printed by `tally --version`.
    public static let version = "0.1.0"
}
