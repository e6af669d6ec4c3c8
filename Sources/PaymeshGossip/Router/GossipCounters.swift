/// Why a frame or message was not delivered or not sent (Specs/gossip.md §11.3). Nothing is
/// dropped without one of these counted.
public enum GossipDropReason: String, Sendable, Hashable, CaseIterable, Comparable {
    case malformedFrame, unsupportedVersion, unknownFrameType
    case graylisted, rateLimited, originRateLimited
    case notSubscribed, topicLimit
    case invalidMessage, invalidSignature, timestampOutOfWindow
    case rejected, ignored
    case belowGossipThreshold, ihaveLimit, iwantRetransmitLimit
    case outboundQueueFull, unknownPeer
    /// Graph sync (§8.5): a SYNC_MESSAGE / SYNC_END we did not ask for (or beyond what we asked),
    /// a SYNC_REQUEST answered too recently.
    case unsolicitedSync, syncRateLimited

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The router's counters (`gossip.status`).
public struct GossipCounters: Sendable, Hashable {
    public var framesReceived = 0
    public var framesSent = 0
    /// PUBLISH frames received (each a copy of some message).
    public var messagesReceived = 0
    /// New valid messages handed to the application.
    public var delivered = 0
    /// Copies of messages already seen.
    public var duplicates = 0
    /// Messages refused as invalid (P4 against the sender).
    public var invalid = 0
    public var published = 0
    /// PUBLISH frames sent forwarding someone else's message (mesh forwarding and IWANT answers).
    public var forwarded = 0
    public var ihaveSent = 0
    public var iwantSent = 0
    public var iwantUnknown = 0
    public var brokenPromises = 0
    /// Entries evicted before their time because a bounded cache was full (not message drops).
    public var seenEvicted = 0
    public var mcacheFull = 0
    /// Graph sync (§8.5): requests sent and answered, SYNC_MESSAGE frames sent and received,
    /// synced messages the graph accepted, answers completed (SYNC_END received).
    public var syncRequestsSent = 0
    public var syncRequestsServed = 0
    public var syncMessagesSent = 0
    public var syncMessagesReceived = 0
    public var syncDelivered = 0
    public var syncCompleted = 0
    public var dropped: [GossipDropReason: Int] = [:]

    public init() {}

    public var droppedTotal: Int { dropped.values.reduce(0, +) }
    mutating func drop(_ reason: GossipDropReason, _ n: Int = 1) { dropped[reason, default: 0] += n }
}
