/// The knobs of path search and reputation (Specs/routing.md §3, §5). Reference values below;
/// every one is a named default an operator may change.
public struct RoutingParameters: Sendable, Hashable {
    /// At most this many hops (channels) per route (issue 10: 10 by default; the onion carries 20).
    public var maxHops = 10
    /// Refuse routes whose first HTLC would be locked longer than this (ms past `now`): 14 days,
    /// half of the 30-day `expiry_delta` ceiling of messages.md §4.8.
    public var maxTotalExpiryMillis: UInt64 = 14 * 86_400_000
    /// Risk of locking money: parts per million of the locked amount per hour of added expiry.
    public var riskFactorPPMPerHour: UInt64 = 10
    /// Cost of one failed attempt, flat (atomic units) …
    public var attemptCostBase: UInt128 = 1
    /// … and proportional (ppm of the amount over the edge).
    public var attemptCostPPM: UInt64 = 5_000
    /// A hop's average latency costs `attemptCost · latency / latencyScaleMillis`.
    public var latencyScaleMillis: UInt64 = 1_000
    /// Half-life of reputation counts (successes and failures halve every hour).
    public var reputationHalfLifeMillis: UInt64 = 3_600_000
    /// A liquidity hint learned from a failure is used for this long.
    public var liquidityHintMillis: UInt64 = 3_600_000
    /// Bounds of the reputation tracker (least recently updated entries are evicted first).
    public var maxTrackedNodes = 10_000
    public var maxTrackedChannels = 50_000

    public init() {}
}
