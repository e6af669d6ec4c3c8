public import PaymeshCrypto

/// A peer's state in the table.
public enum PeerState<Instant: InstantProtocol>: Hashable, Sendable where Instant.Duration == Duration {
    /// Known but neither connected nor scheduled for a redial.
    case disconnected
    /// A dial is in flight.
    case connecting
    case connected
    /// Waiting to redial at `until`.
    case backingOff(until: Instant)
    /// Refused (no dial, inbound connections closed) until `until`.
    case banned(until: Instant)

    public var name: String {
        switch self {
        case .disconnected: "disconnected"
        case .connecting: "connecting"
        case .connected: "connected"
        case .backingOff: "backingOff"
        case .banned: "banned"
        }
    }
}

/// Traffic counters of one peer. Updated by `PeerTable.onTraffic`.
public struct TrafficCounters: Hashable, Sendable {
    public var bytesIn: UInt64 = 0
    public var bytesOut: UInt64 = 0
    public var messagesIn: UInt64 = 0
    public var messagesOut: UInt64 = 0
    public var pingsSent: UInt64 = 0
    public var pingsAnswered: UInt64 = 0
    /// Misbehaviour reported against the peer by the services (forged signatures, malformed
    /// messages, protocol violations), since it became known.
    public var violations: UInt64 = 0
    public init() {}
}

/// Everything the table knows about one identified peer.
public struct PeerRecord<Instant: InstantProtocol>: Hashable, Sendable where Instant.Duration == Duration {
    public let id: EthereumAddress
    public internal(set) var state: PeerState<Instant> = .disconnected
    /// Dialable addresses and where each came from.
    public internal(set) var addresses: [PeerEndpoint: AddressSource] = [:]
    /// The connection that carries the peer's traffic while connected.
    public internal(set) var connection: ConnectionID?
    public internal(set) var direction: ConnectionDirection?
    /// The remote socket address of the current connection (as the transport saw it).
    public internal(set) var remoteAddress: String?
    public internal(set) var connectedSince: Instant?
    public internal(set) var lastSeen: Instant?
    public internal(set) var rtt: Duration?
    public internal(set) var counters = TrafficCounters()
    /// Redial attempts since the last stable connection (drives the backoff).
    public internal(set) var attempt = 0
    public internal(set) var lastDisconnectReason: String?
    public internal(set) var banReason: String?
    /// When the reports still inside the misbehaviour window were made (at most `banAfter`).
    var recentViolations: [Instant] = []
    /// Set by an operator's `disconnect`: no automatic redial until `connect`.
    public internal(set) var held = false
    /// Connected at least once through an address of ours (makes manual addresses redialable).
    public internal(set) var wasConnected = false
    var pingOutstanding = false
    var lastPingSent: Instant?

    init(id: EthereumAddress) { self.id = id }

    /// True when the peer should be redialled after a disconnect.
    var wantsConnection: Bool {
        guard !held else { return false }
        return addresses.values.contains { $0 != .manual } || (wasConnected && !addresses.isEmpty)
    }

    /// The address for redial number `attempt`: sources in order static, discovered, manual,
    /// rotating through them.
    func dialAddress() -> PeerEndpoint? {
        let ordered = addresses.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map(\.key)
        return ordered.isEmpty ? nil : ordered[attempt % ordered.count]
    }

    public var isBanned: Bool { if case .banned = state { true } else { false } }
}

/// A configured endpoint whose identity is not known yet (a static `--peer` before its first
/// successful dial, or a console `connect` in flight).
public struct EndpointRecord<Instant: InstantProtocol>: Hashable, Sendable where Instant.Duration == Duration {
    public let endpoint: PeerEndpoint
    public internal(set) var source: AddressSource
    public internal(set) var dialing = false
    public internal(set) var retryAt: Instant?
    public internal(set) var attempt = 0
    public internal(set) var lastError: String?
    /// The identity the node at this endpoint must prove (`id@host:port`); nil accepts any.
    public internal(set) var expected: EthereumAddress?
}

/// Node-wide counters (console `metrics`).
public struct PeerMetrics: Hashable, Sendable {
    public var dialsStarted: UInt64 = 0
    public var dialsSucceeded: UInt64 = 0
    public var dialsFailed: UInt64 = 0
    public var inboundAccepted: UInt64 = 0
    public var duplicatesClosed: UInt64 = 0
    public var rejectedTooManyPeers: UInt64 = 0
    public var rejectedBanned: UInt64 = 0
    public var bansIssued: UInt64 = 0
    /// Misbehaviour reports received from the services (each counts against its peer).
    public var violationsReported: UInt64 = 0
    /// Bans forgotten early because `maxBans` was reached (issue 7 item 7).
    public var bansEvicted: UInt64 = 0
    /// Unprotected peers closed to make room for a protected one (issue 8).
    public var evictedForProtected: UInt64 = 0
    public var disconnects: UInt64 = 0
    public var pingsSent: UInt64 = 0
    public var pingsFailed: UInt64 = 0
    public init() {}
}
