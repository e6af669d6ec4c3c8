public import Logging
public import PaymeshCrypto
public import PaymeshTransport
import NIOConcurrencyHelpers
import NIOCore

/// Drives the `PeerTable` with a transport (`PeerTransport`: the TCP `PaymeshEndpoint`, or the
/// in-memory one of the node tests): accepts inbound connections, dials static and discovered
/// peers, redials with backoff, pings for RTT, and publishes peer events.
///
/// All I/O runs in child tasks of `run()` (one per dial, connection watcher, ping); their
/// results come back to the actor, which feeds them to the table and performs its actions.
public actor PeerManager {
    public typealias Table = PeerTable<NodeInstant>

    public struct Configuration: Sendable {
        public var table: Table.Configuration
        /// How often due redials, ban expiries and keepalive pings are checked.
        public var tickInterval: Duration

        public init(table: Table.Configuration = .init(), tickInterval: Duration = .milliseconds(250)) {
            self.table = table
            self.tickInterval = tickInterval
        }
    }

    public nonisolated let local: EthereumAddress
    /// Typed node events (peer up/down/banned, discovery found/lost/status) for any subscriber.
    public nonisolated let events: NodeEventHub
    /// The stream protocols this node offers: services register here; streams a peer opens are
    /// routed by protocol id, and what is registered is what the endpoint accepts and advertises.
    public nonisolated let router: ProtocolRouter
    /// Subscribers of typed peer events (`linkEvents()`), each fed without loss.
    private nonisolated let linkSubscribers = NIOLockedValueBox<[PeerLinkEvents]>([])
    /// Message counts added by `countMessages` since the last fold into the table (one entry per
    /// peer that exchanged messages since).
    private nonisolated let messageTally = NIOLockedValueBox<[EthereumAddress: (received: UInt64, sent: UInt64)]>([:])
    private let endpoint: any PeerTransport
    private let configuration: Configuration
    private let logger: Logger
    private let clock: any NodeClock
    private var table: Table
    private var connections: [ConnectionID: any PeerConnection] = [:]
    /// The transport byte counters last folded into the table, per connection.
    private var trafficSeen: [ConnectionID: (bytesReceived: UInt64, bytesSent: UInt64)] = [:]
    private var nextConnection: UInt64 = 1
    private var dialWaiters: [PeerEndpoint: [CheckedContinuation<Result<EthereumAddress, NodeError>, Never>]] = [:]
    private var random: NodeRandom.Generator
    private var discoveryStatus = DiscoveryStatus.off("discovery has not started")
    private let jobs: AsyncStream<@Sendable () async -> Void>
    private let jobContinuation: AsyncStream<@Sendable () async -> Void>.Continuation

    public init(endpoint: any PeerTransport, configuration: Configuration = .init(), events: NodeEventHub = NodeEventHub(), logger: Logger,
                clock: any NodeClock = SystemClock(), random: NodeRandom = .system()) {
        self.endpoint = endpoint
        self.clock = clock
        self.random = random.generatorView
        self.local = endpoint.localPeer
        self.configuration = configuration
        self.events = events
        self.logger = logger
        self.table = Table(local: endpoint.localPeer, configuration: configuration.table)
        self.router = ProtocolRouter { [endpoint] protocols, features in try endpoint.offer(protocols: protocols, features: features) }
        (jobs, jobContinuation) = AsyncStream.makeStream()
    }

    // MARK: Running

    /// Runs until `shutdown()` completes or the task is cancelled.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.acceptAll(from: self.endpoint) }
            group.addTask {
                while !Task.isCancelled {
                    try? await self.clock.sleep(for: self.configuration.tickInterval)
                    await self.tick()
                }
            }
            for await job in jobs { group.addTask { await job() } }
            group.cancelAll()
        }
    }

    /// Closes every connection gracefully (GoAway, then close), stops dialling, waits for the
    /// closes (each is immediate after its GoAway is written), then ends `run()`.
    public func shutdown() async {
        let closing = table.onShutdown().compactMap { action -> (any PeerConnection)? in
            if case .disconnect(let id, _) = action { connections[id] } else { nil }
        }
        for (_, waiters) in dialWaiters { for w in waiters { w.resume(returning: .failure(.shuttingDown())) } }
        dialWaiters.removeAll()
        logger.debug("closing connections", metadata: ["count": "\(closing.count)"])
        await withDiscardingTaskGroup { group in
            for connection in closing { group.addTask { await connection.close() } }
        }
        for s in linkSubscribers.withLockedValue({ $0 }) { s.finish() }
        jobContinuation.finish()
    }

    private func spawn(_ job: @escaping @Sendable () async -> Void) { jobContinuation.yield(job) }

    // MARK: Public operations

    /// Typed peer up/down events for an internal consumer (one consumer per call), from now on,
    /// without loss (coalesced per peer, so bounded by the number of peers). Ends at `shutdown()`.
    public nonisolated func linkEvents() -> PeerLinkEvents {
        let events = PeerLinkEvents()
        linkSubscribers.withLockedValue { $0.append(events) }
        return events
    }

    /// A `--peer [id@]host:port`, kept connected (with `expected`, only to that identity).
    public func addStaticPeer(_ endpoint: PeerEndpoint, expected: EthereumAddress? = nil) {
        perform(table.addStaticPeer(endpoint, expected: expected, now: clock.now))
    }

    /// Connects to `endpoint` (console `connect`); returns the peer's id once connected. With
    /// `expected`, a node that proves another identity is refused (IDENTITY_NOT_VERIFIED).
    public func connect(_ endpoint: PeerEndpoint, expected: EthereumAddress? = nil) async throws(NodeError) -> EthereumAddress {
        let (outcome, actions) = try table.onConnectRequested(endpoint, expected: expected, now: clock.now)
        let id: EthereumAddress
        switch outcome {
        case .alreadyConnected(let connected):
            id = connected
        case .dialing(let dial):
            let result = await withCheckedContinuation { continuation in
                dialWaiters[dial.endpoint, default: []].append(continuation)
                perform(actions)
            }
            id = try result.get()
        }
        // A dial already in flight for another request may have reached another identity.
        if let expected, id != expected { throw .identityNotVerified("the node at \(endpoint) is \(id), not \(expected)") }
        return id
    }

    /// Disconnects `peer` and holds it (no automatic redial until `connect`).
    public func disconnect(_ peer: EthereumAddress) throws(NodeError) {
        perform(try table.onDisconnectRequested(peer))
    }

    /// Measures the round-trip time to a connected peer with a mux ping.
    public func ping(_ peer: EthereumAddress) async throws(NodeError) -> Duration {
        guard table.peers[peer] != nil else { throw .peerNotFound(peer.description) }
        guard let id = table.connection(to: peer), let connection = connections[id] else {
            throw .peerNotConnected(peer.description)
        }
        do {
            let rtt = Duration(try await connection.ping())
            table.onPingResult(peer, rtt: rtt, scheduled: false, now: clock.now)
            return rtt
        } catch {
            table.onPingResult(peer, rtt: nil, scheduled: false, now: clock.now)
            throw .pingFailed("ping to \(peer) failed: \(error)")
        }
    }

    /// Discovery found `address` at `host:port` (called by the discovery module).
    public func peerDiscovered(address: EthereumAddress, host: String, port: Int) {
        perform(table.onPeerDiscovered(address, at: PeerEndpoint(host: host, port: port), now: clock.now))
    }

    /// Discovery found `address`, but the allowlist (`--discover-allow`) leaves it out: it is
    /// not dialled; logged and published (`discovery.skipped`).
    public func discoverySkipped(_ address: EthereumAddress, at endpoint: PeerEndpoint) {
        publish(.discoverySkipped(address, endpoint))
    }

    /// Discovery no longer sees `address`.
    public func peerLost(address: EthereumAddress) {
        perform(table.onPeerLost(address, now: clock.now))
    }

    /// Discovery started, stopped or failed (shown by console `discovery`, published as an event).
    public func setDiscoveryStatus(_ status: DiscoveryStatus) {
        guard status != discoveryStatus else { return }
        discoveryStatus = status
        logger.info(status.active ? "discovery is on" : "discovery is off", metadata: status.reason.map { ["reason": "\($0)"] } ?? [:])
        events.publish(.discoveryStatus(status))
    }

    /// A layer above found `peer` breaking the protocol beyond doubt: disconnect and ban it now
    /// (for counted misbehaviour see `reportMisbehaviour`).
    public func reportProtocolViolation(_ peer: EthereumAddress, reason: String) {
        perform(table.onProtocolViolation(peer, reason: reason, now: clock.now))
    }

    /// A service found `peer` misbehaving `count` times (forged signatures, malformed messages):
    /// counted against it; `configuration.table.misbehaviour` decides when that bans it.
    public func reportMisbehaviour(_ peer: EthereumAddress, count: Int = 1, reason: String) {
        perform(table.onMisbehaviour(peer, count: count, reason: reason, now: clock.now))
    }

    /// Messages exchanged with `peer` on application streams, added without an actor hop (a lock;
    /// a service calls it once per read turn or write batch). Folded into the peer table's
    /// counters at every tick and before every snapshot.
    public nonisolated func countMessages(_ peer: EthereumAddress, in received: UInt64 = 0, out sent: UInt64 = 0) {
        guard received > 0 || sent > 0 else { return }
        messageTally.withLockedValue { tally in
            tally[peer, default: (0, 0)].received &+= received
            tally[peer, default: (0, 0)].sent &+= sent
        }
    }

    /// Peers the node values (open channels; static peers are protected anyway): they get the
    /// reserved slots and evict the newest unprotected peer from a full table (issue 8).
    public func setProtectedPeers(_ ids: Set<EthereumAddress>) { table.setProtectedPeers(ids) }
    public func protect(_ peer: EthereumAddress) { table.protect(peer) }
    public func unprotect(_ peer: EthereumAddress) { table.unprotect(peer) }

    /// The open connection to `peer`, for layers that open streams.
    public func connection(to peer: EthereumAddress) -> (any PeerConnection)? {
        table.connection(to: peer).flatMap { connections[$0] }
    }

    /// Folds each connection's byte counters (kept by the transport) into the peer table.
    private func syncTraffic() {
        for (id, connection) in connections { syncTraffic(id, connection) }
        let tally = messageTally.withLockedValue { tally in defer { tally.removeAll() }; return tally }
        for (peer, n) in tally { table.onTraffic(peer, messagesIn: n.received, messagesOut: n.sent, now: clock.now) }
    }

    private func syncTraffic(_ id: ConnectionID, _ connection: any PeerConnection) {
        let now = connection.traffic
        let before = trafficSeen[id] ?? (0, 0)
        trafficSeen[id] = now
        let bytesIn = now.bytesReceived &- before.bytesReceived, bytesOut = now.bytesSent &- before.bytesSent
        if bytesIn > 0 || bytesOut > 0 {
            table.onTraffic(connection.peer.address, bytesIn: bytesIn, bytesOut: bytesOut, now: clock.now)
        }
    }

    public func snapshot() -> PeerSnapshot {
        syncTraffic()
        let now = clock.now
        return PeerSnapshot(
            peers: table.peers.values.sorted { $0.id < $1.id }.map { PeerInfo($0, now: now) },
            pendingEndpoints: table.endpoints.values.sorted { $0.endpoint < $1.endpoint }
                .map { ($0.endpoint, $0.source, $0.dialing, $0.attempt, $0.lastError) },
            discovered: table.discovered.sorted { $0.key < $1.key }.map { ($0.key, $0.value) },
            discovery: discoveryStatus, metrics: table.metrics,
            connected: table.connectedCount, dialing: table.dialingCount, banned: table.bannedCount,
            connections: connections.count, maxPeers: configuration.table.maxPeers)
    }

    public func info(_ peer: EthereumAddress) throws(NodeError) -> PeerInfo {
        syncTraffic()
        guard let p = table.peers[peer] else { throw .peerNotFound(peer.description) }
        return PeerInfo(p, now: clock.now)
    }

    // MARK: Results of child tasks

    private func tick() {
        syncTraffic()
        perform(table.onTick(now: clock.now))
    }

    private nonisolated func acceptAll<Transport: PeerTransport>(from transport: Transport) async {
        for await connection in transport.inboundConnections { await accepted(connection) }
    }

    private func accepted(_ connection: any PeerConnection) {
        let id = register(connection)
        perform(table.onInboundConnection(id, peer: connection.peer.address, remote: connection.remoteAddress.map(Self.text),
                                          now: clock.now))
    }

    private func dialFinished(_ dial: Dial, _ result: Result<any PeerConnection, any Error>) {
        switch result {
        case .success(let connection):
            let id = register(connection)
            let peer = connection.peer.address
            let actions = table.onDialSucceeded(dial, connection: id, peer: peer, remote: connection.remoteAddress.map(Self.text), now: clock.now)
            let refusal = actions.lazy.compactMap { action -> NodeError? in
                guard case .disconnect(id, let reason) = action else { return nil }
                switch reason {
                case .banned: return .peerBanned("\(peer) is banned")
                case .tooManyPeers: return .tooManyPeers(self.configuration.table.maxPeers)
                case .shutdown: return .shuttingDown()
                default: return nil // a duplicate: the peer is connected through the other one
                }
            }.first
            perform(actions)
            resumeWaiters(dial.endpoint, refusal.map { .failure($0) } ?? .success(peer))
        case .failure(let error):
            let transport = error as? TransportError
            let failure: DialFailure
            let nodeError: NodeError
            switch transport?.kind {
            case .selfConnection?:
                failure = .selfConnection
                nodeError = .dialFailed("\(dial.endpoint) is this node")
            case .unexpectedPeer?:
                failure = .unexpectedPeer
                nodeError = .identityNotVerified("\(dial.endpoint) did not prove identity \(dial.expected.map { "\($0)" } ?? "?")")
            default:
                let why = transport.map { $0.detail.isEmpty ? $0.kind.rawValue : $0.detail } ?? SystemErrorText.describe(error)
                failure = .unreachable(why)
                nodeError = .dialFailed("cannot connect to \(dial.endpoint): \(why)")
            }
            logger.debug("dial failed", metadata: ["endpoint": "\(dial.endpoint)", "error": "\(error)"])
            perform(table.onDialFailed(dial, failure, now: clock.now, random: &random))
            resumeWaiters(dial.endpoint, .failure(nodeError))
        }
    }

    private func resumeWaiters(_ endpoint: PeerEndpoint, _ result: Result<EthereumAddress, NodeError>) {
        for w in dialWaiters.removeValue(forKey: endpoint) ?? [] { w.resume(returning: result) }
    }

    private func register(_ connection: any PeerConnection) -> ConnectionID {
        let id = ConnectionID(nextConnection)
        nextConnection += 1
        connections[id] = connection
        spawn {
            let outcome: Result<Void, any Error>
            do { outcome = .success(try await connection.closed()) } catch { outcome = .failure(error) }
            await self.connectionClosed(id, outcome)
        }
        let router = self.router
        spawn { await Self.route(connection, to: router) }
        return id
    }

    private static func route<Connection: PeerConnection>(_ connection: Connection, to router: ProtocolRouter) async {
        for await stream in connection.inboundStreams { await router.route(stream, from: connection.peer.address) }
    }

    private func connectionClosed(_ id: ConnectionID, _ outcome: Result<Void, any Error>) {
        if let connection = connections[id] { syncTraffic(id, connection) }
        trafficSeen[id] = nil
        connections[id] = nil
        var violation: String?, error: String?
        if case .failure(let e) = outcome {
            if let t = e as? TransportError, [.muxProtocolError, .transportFailed].contains(t.kind) {
                violation = t.description
            } else {
                error = String(describing: e)
            }
        }
        perform(table.onConnectionClosed(id, violation: violation, error: error, now: clock.now, random: &random))
    }

    private func pingFinished(_ peer: EthereumAddress, _ rtt: Duration?) {
        table.onPingResult(peer, rtt: rtt, scheduled: true, now: clock.now)
    }

    // MARK: Performing actions

    private func perform(_ actions: [Table.Action]) {
        for action in actions {
            switch action {
            case .dial(let dial):
                logger.debug("dialing", metadata: ["peer": "\(dial)"])
                let endpoint = self.endpoint
                spawn {
                    let result: Result<any PeerConnection, any Error>
                    do {
                        result = .success(try await endpoint.connect(host: dial.endpoint.host, port: dial.endpoint.port, expecting: dial.expected))
                    } catch {
                        result = .failure(error)
                    }
                    await self.dialFinished(dial, result)
                }
            case .disconnect(let id, let reason):
                guard let connection = connections[id] else { continue }
                logger.debug("closing connection", metadata: ["connection": "\(id)", "peer": "\(connection.peer.address)", "reason": "\(reason)"])
                spawn { await connection.close() }
            case .ping(let id):
                guard let connection = connections[id] else { continue }
                let peer = connection.peer.address
                spawn {
                    let rtt = try? await connection.ping()
                    await self.pingFinished(peer, rtt.map { Duration($0) })
                }
            case .scheduleRetry(let dial, let at):
                logger.debug("redial scheduled", metadata: ["peer": "\(dial)", "in_ms": "\(Int(clock.now.duration(to: at).milliseconds))"])
            case .emit(let event):
                publish(event)
            }
        }
    }

    private func publish(_ event: PeerEvent) {
        switch event {
        case .peerUp(let id, let direction, let remote):
            logger.info("peer up", metadata: ["peer": "\(id)", "direction": "\(direction.rawValue)", "remote": "\(remote ?? "-")"])
            if let connection = connection(to: id) { pushLink(.up(id, connection)) }
        case .peerDown(let id, let reason):
            logger.info("peer down", metadata: ["peer": "\(id)", "reason": "\(reason)"])
            pushLink(.down(id, reason: reason))
        case .peerBanned(let id, let reason, let duration):
            logger.warning("peer banned", metadata: ["peer": "\(id)", "reason": "\(reason)", "seconds": "\(Int(duration.seconds))"])
        case .discoveryFound(let id, let endpoint):
            logger.info("discovered peer", metadata: ["peer": "\(id)", "endpoint": "\(endpoint)"])
        case .discoveryLost(let id):
            logger.info("discovered peer gone", metadata: ["peer": "\(id)"])
        case .discoverySkipped(let id, let endpoint):
            logger.info("discovered peer skipped: not in --discover-allow", metadata: ["peer": "\(id)", "endpoint": "\(endpoint)"])
        }
        events.publish(.peer(event))
    }

    private func pushLink(_ event: PeerLinkEvent) {
        for s in linkSubscribers.withLockedValue({ $0 }) { s.push(event) }
    }

    static func text(_ address: SocketAddress) -> String {
        if let ip = address.ipAddress, let port = address.port { return PeerEndpoint(host: ip, port: port).description }
        return address.description
    }
}

extension Duration {
    /// A NIO `TimeAmount` as a `Duration`.
    init(_ amount: TimeAmount) { self = .nanoseconds(amount.nanoseconds) }
}
