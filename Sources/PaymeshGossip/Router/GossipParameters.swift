import PaymeshCrypto

/// The router's parameters (Specs/gossip.md §9–§11). Defaults are GossipSub v1.1's
/// (ANCHORS "Gossip"); times are milliseconds.
public struct GossipParameters: Sendable, Hashable {
    // §9 mesh
    public var d = 6
    public var dLow = 4
    public var dHigh = 12
    /// Peers kept by score when a mesh is trimmed above D_hi (GossipSub D_score).
    public var dScore = 4
    /// Peers that get IHAVE per topic per heartbeat, at least (GossipSub D_lazy).
    public var dLazy = 6
    /// …or this share of the eligible peers when larger (GossipSub gossip_factor).
    public var gossipFactor = 0.25
    public var heartbeatMillis: UInt64 = 1_000
    public var fanoutTTLMillis: UInt64 = 60_000
    /// Message cache history, in heartbeats, and how many of them IHAVE advertises.
    public var mcacheWindows = 5
    public var mcacheGossipWindows = 3
    public var seenTTLMillis: UInt64 = 120_000
    public var pruneBackoffMillis: UInt64 = 60_000
    /// Backoff we ask for when we leave a topic (GossipSub unsubscribe_backoff).
    public var unsubscribeBackoffMillis: UInt64 = 10_000
    /// Own messages go to every subscribed peer at or above the publish threshold.
    public var floodPublish = true
    /// Times one peer may fetch one message by IWANT (GossipSub gossip_retransmission).
    public var gossipRetransmission = 3
    /// An IWANT promise is broken when the message has not arrived after this long.
    public var iwantFollowupMillis: UInt64 = 3_000
    /// IHAVE frames accepted from one peer per heartbeat (GossipSub max_ihave_messages).
    public var maxIHaveFramesPerHeartbeat = 10
    /// Ids asked from one peer per heartbeat (GossipSub max_ihave_length).
    public var maxIWantIDsPerHeartbeat = GossipLimits.maxIDsPerFrame

    // §5.4 timestamps
    /// A message older than this (by its timestamp) is invalid. Below seenTTL, so a replay is
    /// either a duplicate or invalid.
    public var maxMessageAgeMillis: UInt64 = 60_000
    /// A message this far in the future is invalid (clock skew allowance).
    public var maxClockSkewMillis: UInt64 = 10_000

    // §11 rate limits and bounds
    /// PUBLISH frames one peer may send: refill per second and burst.
    public var publishRatePerSecond = 100.0
    public var publishBurst = 200.0
    /// Control frames (all other types) one peer may send.
    public var controlRatePerSecond = 200.0
    public var controlBurst = 400.0
    /// New messages accepted per origin, whoever forwards them.
    public var originRatePerSecond = 10.0
    public var originBurst = 50.0
    public var maxTrackedOrigins = 4_096
    /// Frames handed to the driver for one peer and not yet reported written (`onSent`).
    public var maxPendingFramesPerPeer = 512
    public var maxTopicsPerPeer = 32
    public var maxSeenEntries = 100_000
    public var maxCachedMessagesPerWindow = 2_000
    public var maxPromises = 10_000
    /// Scores of disconnected peers below zero are kept this long (GossipSub retain_score), at most maxRetainedScores.
    public var retainScoreMillis: UInt64 = 600_000
    public var maxRetainedScores = 1_024

    // §8.5 graph sync
    /// Ask every new gossip peer for its graph (SYNC_REQUEST after our SUBSCRIBEs).
    public var syncOnConnect = true
    /// Messages we ask for and the most we answer with.
    public var syncMaxMessages = 20_000
    /// One answer per peer per this long; further requests are dropped (`syncRateLimited`).
    public var syncMinIntervalMillis: UInt64 = 60_000
    /// Our request lapses when no SYNC_MESSAGE arrived for this long.
    public var syncIdleTimeoutMillis: UInt64 = 60_000
    /// Peers whose last answer time we remember (further requests are refused until room frees).
    public var maxSyncServedPeers = 1_024

    public var score = GossipScoreParameters()

    public init() {}
}

/// Peer scoring P1–P7 (Specs/gossip.md §10), GossipSub v1.1 shape. Every topic uses the same
/// topic parameters with weight 1. Decays apply once per heartbeat.
public struct GossipScoreParameters: Sendable, Hashable {
    /// P1 time in mesh: weight per quantum, cap in quanta.
    public var timeInMeshWeight = 0.01
    public var timeInMeshQuantumMillis: UInt64 = 1_000
    public var timeInMeshCap = 600.0
    /// P2 first message deliveries.
    public var firstDeliveriesWeight = 0.1
    public var firstDeliveriesDecay = 0.9
    public var firstDeliveriesCap = 50.0
    /// P3 mesh message delivery deficit (squared below the threshold, once active). The threshold
    /// is 0 by default: the topics carry sparse control-plane traffic, where a delivery quota
    /// would punish honest mesh peers (GossipSub advice for low-rate topics).
    public var meshDeliveriesWeight = -1.0
    public var meshDeliveriesDecay = 0.9
    public var meshDeliveriesThreshold = 0.0
    public var meshDeliveriesCap = 20.0
    public var meshDeliveriesActivationMillis: UInt64 = 30_000
    /// P4 invalid messages (squared).
    public var invalidDeliveriesWeight = -10.0
    public var invalidDeliveriesDecay = 0.99
    /// P5 application score (set by the application, `setApplicationScore`).
    public var appSpecificWeight = 1.0
    /// P6 IP colocation: peers sharing a colocation key beyond the threshold (squared surplus).
    public var ipColocationWeight = -10.0
    public var ipColocationThreshold = 4
    /// P7 behaviour penalty (squared excess over the threshold).
    public var behaviourPenaltyWeight = -10.0
    public var behaviourPenaltyThreshold = 2.0
    public var behaviourPenaltyDecay = 0.9
    /// A decayed counter below this becomes 0 (GossipSub decay_to_zero).
    public var decayToZero = 0.01

    /// Below: no IHAVE/IWANT exchanged with the peer.
    public var gossipThreshold = -10.0
    /// Below: no flood-published messages sent to the peer.
    public var publishThreshold = -50.0
    /// Below: every frame from the peer is ignored.
    public var graylistThreshold = -80.0

    public init() {}
}
