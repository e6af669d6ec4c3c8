import Foundation
public import Logging
import NIOConcurrencyHelpers
public import PaymeshChannels
public import PaymeshCrypto
public import PaymeshMessages
public import PaymeshNode
import PaymeshStore
import PaymeshTestSupport

/// What a node of a `TestNetwork` runs with (changeable per node before it starts or restarts).
public struct NodeSetup: Sendable {
    public var peers: PeerManager.Configuration
    public var payments: PaymentsConfiguration
    public var logger: Logger
    /// Where the node's counters go (no-op unless a test reads them).
    public var metrics: NodeMetrics
    /// The gossip layer; nil (the default) runs the node without it.
    public var gossip: GossipConfiguration?

    public init(peers: PeerManager.Configuration = .init(), payments: PaymentsConfiguration = .init(synchronous: .normal),
                logger: Logger = .silent, metrics: NodeMetrics = .disabled, gossip: GossipConfiguration? = nil) {
        self.metrics = metrics
        self.peers = peers
        self.payments = payments
        self.logger = logger
        self.gossip = gossip
    }
}

/// One node of a `TestNetwork`: a `PeerManager` and a `PaymentsService` over a `MemoryTransport`,
/// with its channel store (the real SQLite store) in a temporary data directory. It can stop,
/// crash and start again from that directory with the same identity and port.
public final class TestNode: Sendable {
    /// The parts of a running node (replaced at every start).
    public struct Parts: Sendable {
        public let transport: MemoryTransport
        public let events: NodeEventHub
        public let peers: PeerManager
        public let payments: PaymentsService
        public let gossip: GossipService?
        let tasks: Task<Void, Never>
    }

    public let index: Int
    public let key: IdentityKey
    public let directory: String
    public let port: Int
    private let network: MemoryNetwork
    private let clock: ManualClock
    private let random: NodeRandom
    private let setupBox: NIOLockedValueBox<NodeSetup>
    private let partsBox = NIOLockedValueBox<Parts?>(nil)
    /// The parts of the last run once the network is shut down: a test body that outlived its
    /// timeout (cancelled, still running on a loaded machine) then calls shut-down services and
    /// gets their errors instead of crashing the whole test process.
    private let retiredBox = NIOLockedValueBox<Parts?>(nil)

    init(index: Int, key: IdentityKey, directory: String, port: Int, network: MemoryNetwork, clock: ManualClock,
         random: NodeRandom, setup: NodeSetup) {
        self.index = index
        self.key = key
        self.directory = directory
        self.port = port
        self.network = network
        self.clock = clock
        self.random = random
        setupBox = NIOLockedValueBox(setup)
    }

    public var id: EthereumAddress { key.address }
    /// Where peers dial this node.
    public var endpoint: PeerEndpoint { PeerEndpoint(host: MemoryNetwork.host, port: port) }
    public var setup: NodeSetup {
        get { setupBox.withLockedValue { $0 } }
        set { setupBox.withLockedValue { $0 = newValue } }
    }

    public var isRunning: Bool { partsBox.withLockedValue { $0 != nil } }
    /// The running parts; a precondition failure if the node is stopped (a broken test).
    public var parts: Parts {
        if let p = partsBox.withLockedValue({ $0 }) { return p }
        guard let p = retiredBox.withLockedValue({ $0 }) else { preconditionFailure("node \(index) is not running") }
        return p
    }
    public var peers: PeerManager { parts.peers }
    public var payments: PaymentsService { parts.payments }
    public var transport: MemoryTransport { parts.transport }
    public var events: NodeEventHub { parts.events }
    /// The gossip service; a precondition failure if the node runs without one (a broken test).
    public var gossip: GossipService {
        guard let g = parts.gossip else { preconditionFailure("node \(index) runs without gossip") }
        return g
    }

    // MARK: Lifecycle

    /// Starts the node on its data directory (restoring every channel from its store).
    public func start() async throws {
        precondition(!isRunning, "node \(index) is already running")
        let setup = self.setup
        let transport = try network.transport(identity: key, port: port)
        let events = NodeEventHub()
        let logger = setup.logger.with("node", "\(index)")
        let peers = PeerManager(endpoint: transport, configuration: setup.peers, events: events, logger: logger, clock: clock, random: random)
        let payments: PaymentsService
        do {
            payments = try await PaymentsService.start(directory: directory, key: key, peers: peers, events: events,
                                                       configuration: setup.payments, logger: logger,
                                                       clock: clock, random: random, metrics: setup.metrics)
        } catch {
            await transport.shutdown()
            throw error
        }
        var gossip: GossipService?
        if let configuration = setup.gossip {
            do {
                gossip = try await GossipService.start(key: key, peers: peers, payments: payments, events: events, configuration: configuration,
                                                       logger: logger, clock: clock, random: random)
            } catch {
                await payments.shutdown()
                await transport.shutdown()
                throw error
            }
        }
        let tasks = Task { [gossip] in
            await withDiscardingTaskGroup { group in
                group.addTask { await peers.run() }
                group.addTask { await payments.run() }
                if let gossip { group.addTask { await gossip.run() } }
            }
        }
        partsBox.withLockedValue { $0 = Parts(transport: transport, events: events, peers: peers, payments: payments, gossip: gossip, tasks: tasks) }
    }

    /// Stops for good, at the end of the network's life: calls made afterwards by a body that
    /// outlived its timeout reach the stopped services (§ `retiredBox`).
    public func retire() async {
        retiredBox.withLockedValue { $0 = partsBox.withLockedValue { $0 } }
        await stop()
    }

    /// Stops gracefully: connections closed, queued writes finished, the store closed.
    public func stop() async {
        guard let p = partsBox.withLockedValue({ p in defer { p = nil }; return p }) else { return }
        await p.gossip?.shutdown()
        await p.peers.shutdown()
        await p.payments.shutdown()
        await p.transport.shutdown()
        p.events.finish()
        await p.tasks.value
    }

    /// Crashes: every connection drops at once (peers see an error, nothing more is sent), then
    /// the in-memory state is thrown away; only what the store holds survives a `start()`.
    public func crash() async {
        guard let p = partsBox.withLockedValue({ p in defer { p = nil }; return p }) else { return }
        p.transport.crash()
        p.tasks.cancel()
        await p.gossip?.shutdown()
        await p.payments.shutdown()
        await p.peers.shutdown()
        p.events.finish()
        await p.tasks.value
    }

    /// Stops (or crashes) and starts again on the same directory, identity and port.
    public func restart(crash: Bool = false) async throws {
        if crash { await self.crash() } else { await stop() }
        try await start()
    }

    // MARK: Peers

    /// Dials `other` and returns once this node's peer table has it connected.
    public func connect(to other: TestNode) async throws {
        _ = try await peers.connect(other.endpoint)
    }

    public func isConnected(to other: TestNode) async -> Bool { await peers.connection(to: other.id) != nil }

    /// Waits until this node has a connection to `other`.
    public func waitUntilConnected(to other: TestNode, timeout: Double = 10) async throws {
        let peers = self.peers, id = other.id
        _ = try await waitFor("node \(index) connected to node \(other.index)", timeout: timeout) {
            await peers.connection(to: id) != nil ? true : nil
        }
    }

    // MARK: Payments (PaymentsService's public API)

    /// The node's own address as the payments layer names it.
    public var address: EthereumAddress { id }

    public func fund(_ amount: UInt128, asset: Asset = TestNetwork.usdc) async throws {
        try await payments.fund(asset: asset, amount: amount)
    }

    /// Opens a channel paying `payee` and returns its id once the payee accepted it (OPEN).
    public func openChannel(to payee: TestNode, deposit: UInt128, asset: Asset = TestNetwork.usdc,
                            challengePeriodSeconds: UInt64 = 3_600) async throws -> ChannelID {
        try await payments.openChannel(OpenRequest(peer: payee.address, asset: asset, deposit: deposit,
                                                   challengePeriodSeconds: challengePeriodSeconds)).snapshot.channelID
    }

    /// Pays `count` × `amount` on `channel` and returns once the last voucher is acknowledged.
    public func pay(_ channel: ChannelID, amount: UInt128, count: Int = 1, taskID: String? = nil) async throws -> PayOutcome {
        try await payments.pay(PayRequest(channels: [channel], amount: amount, taskID: taskID, count: count))
    }

    public func close(_ channel: ChannelID, cooperative: Bool = true, wait: Bool = false) async throws -> ChannelView {
        try await payments.closeChannel(channel, cooperative: cooperative, wait: wait, timeoutMillis: 30_000)
    }

    public func channel(_ id: ChannelID) async -> ChannelView? { await payments.view(id) }

    /// The wallet balance of `asset` on this node's local ledger.
    public func wallet(_ asset: Asset = TestNetwork.usdc) async throws -> UInt128 {
        let me = address
        return try await payments.balances().first { $0.owner == me && $0.assetID == asset.id }?.amount.atomicUnits ?? 0
    }

    // MARK: Waiting for observable results

    /// Waits until `channel` satisfies `condition` and returns its view; fails with a message
    /// naming `what` (and the channel's last state) after `timeout` seconds of real time.
    @discardableResult
    public func waitForChannel(_ channel: ChannelID, _ what: String, timeout: Double = 10,
                               until condition: @escaping @Sendable (ChannelView) -> Bool) async throws -> ChannelView {
        let payments = self.payments
        do {
            return try await waitFor("node \(index): channel \(channel) \(what)", timeout: timeout) {
                guard let v = await payments.view(channel), condition(v) else { return nil }
                return v
            }
        } catch let timeout as TimedOut {
            let last = await payments.view(channel)
            throw TimedOut("\(timeout.what) (last: \(last.map { "\($0.snapshot.state), nonce \($0.snapshot.latestVoucher?.nonce ?? 0)" } ?? "no channel"))",
                           after: timeout.seconds)
        }
    }

    /// Waits until `channel` is in `state` on this node.
    @discardableResult
    public func waitForChannel(_ channel: ChannelID, state: ChannelState, timeout: Double = 10) async throws -> ChannelView {
        try await waitForChannel(channel, "to be \(state)", timeout: timeout) { $0.snapshot.state == state }
    }

    /// Returns the first non-nil result of `check`, which runs now and again after every event
    /// the node publishes (peer, channel and payment events): no polling, no sleep. Fails with
    /// `TimedOut(what)` after `timeout` seconds of real time.
    public func waitFor<T: Sendable>(_ what: String, timeout: Double = 10,
                                     _ check: @escaping @Sendable () async throws -> T?) async throws -> T {
        let wakeups = events.subscribe()
        return try await withTimeout(timeout, what) {
            if let value = try await check() { return value }
            for await _ in wakeups {
                if let value = try await check() { return value }
            }
            throw TimedOut("\(what) (the node stopped)", after: 0)
        }
    }
}

extension Logger {
    func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy[metadataKey: key] = "\(value)"
        return copy
    }
}
