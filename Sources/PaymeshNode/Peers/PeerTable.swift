public import PaymeshCrypto

/// The node's peer table: who is connected, dialing, backing off or banned, and what to do
/// next. Sans-IO: no sockets, tasks or clocks — every event carries `now`, randomness for
/// jitter is passed in, and each event returns the actions the driver (`PeerManager`) performs.
///
/// Generic over the instant type so that tests drive it with a mock clock.
public struct PeerTable<Instant: InstantProtocol>: Sendable where Instant.Duration == Duration {
    public typealias Action = PeerAction<Instant>

    public struct Configuration: Hashable, Sendable {
        /// Connected plus dialing peers never exceed this; further inbound connections are closed.
        public var maxPeers: Int
        public var backoff: BackoffPolicy
        /// How long a protocol violator stays banned.
        public var banDuration: Duration
        /// Keepalive ping period per connected peer (RTT measurement).
        public var pingInterval: Duration
        /// A connection that lasted this long resets the backoff to its first step.
        public var stableAfter: Duration
        /// Connections one peer may hold at once (the primary plus inbound duplicates waiting
        /// for the dialer to close them, §7 of Specs/console.md).
        public var maxConnectionsPerPeer: Int
        /// Bans remembered at once (issue 7 item 7). Throwaway identities cost an attacker
        /// nothing, so past this the oldest ban is forgotten rather than memory growing.
        public var maxBans: Int
        public static var defaultMaxBans: Int { 4096 }
        /// Slots of `maxPeers` that only protected peers (channels, static peers) may take
        /// (issue 8); by default min(8, maxPeers / 8). A protected peer arriving at a full table
        /// also evicts the newest unprotected peer.
        public var reservedSlots: Int {
            get { min(reservedSlotsSetting ?? min(8, maxPeers / 8), maxPeers - 1) }
            set { reservedSlotsSetting = newValue }
        }
        private var reservedSlotsSetting: Int?
        /// When reported misbehaviour bans a peer (`onMisbehaviour`).
        public var misbehaviour: MisbehaviourPolicy

        public init(maxPeers: Int = 64, backoff: BackoffPolicy = BackoffPolicy(), banDuration: Duration = .seconds(600),
                    pingInterval: Duration = .seconds(15), stableAfter: Duration = .seconds(30), maxConnectionsPerPeer: Int = 3,
                    maxBans: Int = Configuration.defaultMaxBans, reservedSlots: Int? = nil,
                    misbehaviour: MisbehaviourPolicy = .default) {
            precondition(maxPeers > 0 && maxConnectionsPerPeer > 0 && maxBans > 0)
            precondition((reservedSlots ?? 0) >= 0, "reservedSlots must not be negative")
            self.maxBans = maxBans
            self.misbehaviour = misbehaviour
            self.reservedSlotsSetting = reservedSlots
            self.maxPeers = maxPeers
            self.backoff = backoff
            self.banDuration = banDuration
            self.pingInterval = pingInterval
            self.stableAfter = stableAfter
            self.maxConnectionsPerPeer = maxConnectionsPerPeer
        }
    }

    struct ConnectionRecord: Hashable, Sendable {
        let peer: EthereumAddress
        let direction: ConnectionDirection
        /// Set once we asked for this connection to be closed, and why.
        var closing: DisconnectReason?
    }

    public let local: EthereumAddress
    public let configuration: Configuration
    public internal(set) var peers: [EthereumAddress: PeerRecord<Instant>] = [:]
    /// Endpoints whose identity is not known yet.
    public internal(set) var endpoints: [PeerEndpoint: EndpointRecord<Instant>] = [:]
    /// What discovery currently reports (never ourselves).
    public internal(set) var discovered: [EthereumAddress: PeerEndpoint] = [:]
    public internal(set) var metrics = PeerMetrics()
    /// Endpoints that turned out to be this node: never dialled again.
    public internal(set) var selfEndpoints: Set<PeerEndpoint> = []
    var connections: [ConnectionID: ConnectionRecord] = [:]
    var dialsInFlight: [PeerEndpoint: Dial] = [:]
    public internal(set) var stopping = false
    /// Peers the node values (open channels): reserved slots, never evicted for a newcomer.
    /// Peers with a static address are protected too.
    public internal(set) var protectedPeers: Set<EthereumAddress> = []
    /// Current bans (peer → end), the source of `bannedCount`.
    var bans: [EthereumAddress: Instant] = [:]
    /// Bans in the order issued (= order of expiry, one duration for all); entries whose ban
    /// was lifted or renewed are skipped when reached.
    var banQueue: [(peer: EthereumAddress, until: Instant)] = []
    var banQueueHead = 0
    /// Peers in state `.connected`, kept by `store` so counting is O(1) with many records.
    var connectedIDs: Set<EthereumAddress> = []

    public init(local: EthereumAddress, configuration: Configuration = Configuration()) {
        self.local = local
        self.configuration = configuration
    }

    // MARK: Queries

    public var connectedCount: Int { connectedIDs.count }
    public var dialingCount: Int { dialsInFlight.count }
    public var bannedCount: Int { bans.count }
    public var connectedPeers: [EthereumAddress] { connectedIDs.sorted() }

    /// The connection carrying traffic to `peer`, when connected.
    public func connection(to peer: EthereumAddress) -> ConnectionID? {
        guard let p = peers[peer], p.state == .connected else { return nil }
        return p.connection
    }

    /// The peer a connection belongs to (also for duplicates being closed).
    public func peer(of connection: ConnectionID) -> EthereumAddress? { connections[connection]?.peer }

    public var openConnections: [ConnectionID] { connections.keys.sorted() }

    var hasCapacity: Bool { connectedCount + dialsInFlight.count < configuration.maxPeers - configuration.reservedSlots }

    /// Whether `peer` is protected: marked by the node (channels) or configured statically.
    public func isProtected(_ peer: EthereumAddress) -> Bool {
        protectedPeers.contains(peer) || peers[peer]?.addresses.values.contains(.static) == true
    }

    /// Room to dial `peer`: protected peers may use the reserved slots, and may go over
    /// `maxPeers` by one while a newcomer is evicted for them.
    func hasCapacity(for peer: EthereumAddress) -> Bool {
        isProtected(peer) ? connectedCount + dialsInFlight.count < configuration.maxPeers + 1 : hasCapacity
    }

    // MARK: Helpers

    mutating func startDial(_ dial: Dial) -> Action {
        dialsInFlight[dial.endpoint] = dial
        metrics.dialsStarted += 1
        return .dial(dial)
    }

    /// Schedules the next redial of a peer that is not connected, or parks it.
    mutating func backOffOrPark(_ p: inout PeerRecord<Instant>, now: Instant, random: inout some RandomNumberGenerator) -> [Action] {
        guard !stopping, p.wantsConnection, let address = p.dialAddress() else {
            p.state = .disconnected
            return []
        }
        let delay = configuration.backoff.delay(attempt: p.attempt, using: &random)
        p.attempt += 1
        let at = now.advanced(by: delay)
        p.state = .backingOff(until: at)
        return [.scheduleRetry(Dial(endpoint: address, expected: p.id), at: at)]
    }

    /// Stores a record, or drops it when there is nothing left to remember.
    mutating func store(_ p: PeerRecord<Instant>) {
        if p.state == .connected { connectedIDs.insert(p.id) } else { connectedIDs.remove(p.id) }
        if p.state == .disconnected, p.addresses.isEmpty, p.connection == nil, discovered[p.id] == nil,
           !connections.values.contains(where: { $0.peer == p.id }) {
            peers[p.id] = nil
        } else {
            peers[p.id] = p
        }
    }
}
