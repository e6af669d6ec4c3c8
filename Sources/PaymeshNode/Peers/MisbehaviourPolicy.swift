/// When misbehaviour a service reports against a peer (`PeerManager.reportMisbehaviour`) gets it
/// banned: `banAfter` reports within `window`. An honest peer never forges a signature or sends a
/// malformed message, but one report may come from a bug or a race at a restart, so the default
/// tolerates a few before banning.
public struct MisbehaviourPolicy: Hashable, Sendable {
    public var banAfter: Int
    public var window: Duration

    /// 3 reports within 10 minutes (the ban lasts the table's `banDuration`).
    public static let `default` = MisbehaviourPolicy(banAfter: 3, window: .seconds(600))

    public init(banAfter: Int, window: Duration) {
        precondition(banAfter > 0 && window > .zero, "banAfter and window must be positive")
        self.banAfter = banAfter
        self.window = window
    }
}
