public import PaymeshCrypto

/// A peer as the console shows it: the table's record with times made relative to now.
public struct PeerInfo: Sendable {
    public let id: EthereumAddress
    public let state: String
    public let addresses: [(endpoint: PeerEndpoint, source: AddressSource)]
    public let direction: ConnectionDirection?
    public let remoteAddress: String?
    public let connectedFor: Duration?
    public let lastSeenAgo: Duration?
    public let rtt: Duration?
    public let counters: TrafficCounters
    public let attempt: Int
    public let retryIn: Duration?
    public let banRemaining: Duration?
    public let banReason: String?
    public let lastDisconnectReason: String?
    public let held: Bool

    init<Instant>(_ p: PeerRecord<Instant>, now: Instant) {
        id = p.id
        state = p.state.name
        addresses = p.addresses.sorted { ($0.value, $0.key) < ($1.value, $1.key) }.map { ($0.key, $0.value) }
        direction = p.state == .connected ? p.direction : nil
        remoteAddress = p.state == .connected ? p.remoteAddress : nil
        connectedFor = p.connectedSince.map { $0.duration(to: now) }
        lastSeenAgo = p.lastSeen.map { $0.duration(to: now) }
        rtt = p.rtt
        counters = p.counters
        attempt = p.attempt
        if case .backingOff(let until) = p.state { retryIn = max(.zero, now.duration(to: until)) } else { retryIn = nil }
        if case .banned(let until) = p.state { banRemaining = max(.zero, now.duration(to: until)) } else { banRemaining = nil }
        banReason = p.banReason
        lastDisconnectReason = p.lastDisconnectReason
        held = p.held
    }
}

/// What discovery reports (console `discovery`).
public struct DiscoveryStatus: Hashable, Sendable {
    /// True while the discovery service runs.
    public var active: Bool
    /// Why discovery is off (or a note while on).
    public var reason: String?

    public init(active: Bool, reason: String?) {
        self.active = active
        self.reason = reason
    }

    public static func off(_ reason: String) -> DiscoveryStatus { DiscoveryStatus(active: false, reason: reason) }
}

/// One consistent view of the peer manager for the console.
public struct PeerSnapshot: Sendable {
    public let peers: [PeerInfo]
    public let pendingEndpoints: [(endpoint: PeerEndpoint, source: AddressSource, dialing: Bool, attempt: Int, lastError: String?)]
    public let discovered: [(id: EthereumAddress, endpoint: PeerEndpoint)]
    public let discovery: DiscoveryStatus
    public let metrics: PeerMetrics
    public let connected: Int
    public let dialing: Int
    public let banned: Int
    public let connections: Int
    public let maxPeers: Int
}
