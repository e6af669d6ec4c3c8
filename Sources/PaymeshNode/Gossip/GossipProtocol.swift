public import PaymeshGossip
public import PaymeshMessages
public import PaymeshMux

/// `/paymesh/gossip/1` (Specs/gossip.md §1): its id and the feature a node that serves it
/// advertises in its identity proof.
public enum GossipProtocol {
    public static let id = try! StreamProtocolID("/paymesh/gossip/1")
    public static let feature = "gossip/1"
}

/// What the gossip service runs with (Specs/gossip.md §7.5, §8.3, §9.1).
public struct GossipConfiguration: Sendable {
    /// The router's parameters (GossipSub v1.1, scoring, rate limits, bounded queues).
    public var parameters = GossipParameters()
    /// The network graph's table bounds and staleness periods.
    public var graphLimits = NetworkGraph.Limits()
    /// The node announcement's alias (0–32 bytes) and listen addresses (`host:port`, at most 8).
    public var alias = ""
    public var addresses: [String] = []
    /// The forwarding terms this node puts in the CHANNEL_ANNOUNCE it proposes (as payer) and in
    /// its channel updates.
    public var channelTerms = ForwardingTerms()
    /// How often the node re-publishes its node announcement, its channels' announcements and
    /// updates, and its services (§8.3: at most `channelStale / 4`).
    public var refreshInterval: Duration = .seconds(3_600)
    /// After a new gossip peer, the node re-announces itself (node, channels, services) at the next
    /// heartbeat, at most once per this interval (§8.3).
    public var reannounceMinInterval: Duration = .seconds(10)
    /// How often the graph is pruned (§8.3).
    public var pruneInterval: Duration = .seconds(60)
    /// Lifetime of an advertised service when `service.advertise` names none (re-advertised at
    /// every refresh, so it lives while the node does).
    public var serviceLifetimeMillis: UInt64 = 86_400_000

    public struct ForwardingTerms: Sendable, Hashable {
        public var feeBase = Amount(0)
        public var feePPM: UInt64 = 0
        public var htlcMinimum = Amount(1)
        /// nil: the channel's capacity.
        public var htlcMaximum: Amount?
        public var expiryDeltaMillis: UInt64 = 3_600_000
        public init() {}
    }

    public init() {}
}
