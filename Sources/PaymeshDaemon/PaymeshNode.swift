public import Logging
public import NIOCore
public import PaymeshConsole
public import PaymeshCrypto
public import PaymeshNode
public import ServiceLifecycle
import Foundation
import NIOConcurrencyHelpers
import NIOPosix
import PaymeshTransport

/// A Paymesh node as a service: loads or creates the identity, listens for peers, runs the
/// peer manager and the console, and shuts all of it down gracefully on SIGINT/SIGTERM (through
/// a `ServiceGroup`), on console `stop`, or when its task is cancelled.
///
/// The composition root: it only wires the parts together; each lives in its own type
/// (`IdentityStore`, `PeerManager`, `PaymentsService`, `NodeDiscovery` in PaymeshNode; the
/// `ConsoleServer` and one method group per feature in PaymeshConsole).
public final class PaymeshNode: Service, Sendable {
    public static let version = "0.1.0"

    /// What a started node reports (the CLI prints it as the ready line).
    public struct Started: Sendable {
        public let id: EthereumAddress
        /// The bound listen address (the real port when 0 was asked for).
        public let listen: PeerEndpoint
        public let consolePath: String
        /// For the discovery module and later layers: `peerDiscovered`, streams, events.
        public let peers: PeerManager
        /// True when this start created the identity key.
        public let createdIdentity: Bool
        /// The HTTP listener's bound address (`/metrics`), when `configuration.http` asked for one.
        public internal(set) var http: PeerEndpoint?
    }

    public let configuration: NodeConfiguration
    /// Console methods: one group per feature, registered by `start()`.
    public let registry = ConsoleRegistry()
    /// Typed events of every feature; the console's `subscribe` turns them into JSON.
    public let events = NodeEventHub()
    /// The node's metrics (`/metrics`, console `metrics`); the features count into `metricsCollector.metrics`.
    public let metricsCollector = NodeMetricsCollector()
    public let logLevel: LogLevelControl
    private let logger: Logger
    private let group: any EventLoopGroup
    private let stopSignal: (stream: AsyncStream<Void>, continuation: AsyncStream<Void>.Continuation)
    private let readiness = NIOLockedValueBox(Readiness())
    // Payments layer (Sources/PaymeshNode/Payments), set by start().
    private let paymentsBox = NIOLockedValueBox<PaymentsService?>(nil)
    /// The payments layer once started (channels, vouchers, the local ledger).
    public var payments: PaymentsService? { paymentsBox.withLockedValue { $0 } }
    // Gossip layer (Sources/PaymeshNode/Gossip), set by start() unless configured off.
    private let gossipBox = NIOLockedValueBox<GossipService?>(nil)
    /// The gossip layer once started (network graph, service directory).
    public var gossip: GossipService? { gossipBox.withLockedValue { $0 } }
    // The services sold through the HTTP 402 gateway (Sources/PaymeshNode/Services), set by start().
    private let catalogBox = NIOLockedValueBox<ServiceCatalog?>(nil)
    // Negotiations over the wire (Sources/PaymeshNode/Market), set by start().
    private let negotiationsBox = NIOLockedValueBox<NegotiationService?>(nil)
    // The web view's feed (Sources/PaymeshConsole/WebView), set by start() when the HTTP listener is configured.
    private let webViewBox = NIOLockedValueBox<WebViewFeed?>(nil)
    /// Routed payments (with gossip): its resolver runs with the node (Specs/routing.md §6.2).
    private let routedBox = NIOLockedValueBox<RoutedPayments?>(nil)
    /// The data directory's lock, held from start until `run()` returns.
    private let lockBox = NIOLockedValueBox<DataDirectoryLock?>(nil)

    private struct Readiness {
        var result: Result<Started, any Error>?
        var waiters: [CheckedContinuation<Started, any Error>] = []
    }

    public init(configuration: NodeConfiguration, logger: Logger = .silent, logLevel: LogLevelControl = LogLevelControl(),
                group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.configuration = configuration
        self.logger = logger
        self.logLevel = logLevel
        self.group = group
        stopSignal = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Waits until the node listens and its console answers; throws if start-up failed.
    public func started() async throws -> Started {
        try await withCheckedThrowingContinuation { continuation in
            let done: Result<Started, any Error>? = readiness.withLockedValue { r in
                if r.result == nil { r.waiters.append(continuation) }
                return r.result
            }
            if let done { continuation.resume(with: done) }
        }
    }

    /// Asks a running node to shut down (console `stop`).
    public func requestStop() { stopSignal.continuation.yield() }

    public func run() async throws {
        let parts: (Started, PaymeshEndpoint, ConsoleServer, NodeDiscovery, HTTPListener?)
        defer { lockBox.withLockedValue { $0 = nil } } // releases the data directory
        do {
            parts = try await start()
        } catch {
            lockBox.withLockedValue { $0 = nil } // before anyone learns of the failure and retries
            settle(.failure(error))
            throw error
        }
        let (started, endpoint, console, discovery, http) = parts
        var ready = started
        var httpFailure: NodeError?
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await withDiscardingTaskGroup { group in
                    if let http {
                        group.addTask { await http.run() }
                        switch await http.bound() {
                        case .success(let bound):
                            ready.http = bound
                            await self.catalogBox.withLockedValue { $0 }?.gatewayBound("http://\(bound)")
                            logger.info("http listening", metadata: ["http": "\(bound)"])
                        case .failure(let error):
                            // Nothing else runs yet: close what start() opened and report the failure.
                            discovery.stop()
                            await console.close()
                            await self.payments?.shutdown()
                            await endpoint.shutdown()
                            events.finish()
                            settle(.failure(error))
                            httpFailure = error
                            group.cancelAll()
                            return
                        }
                    }
                    settle(.success(ready))
                    group.addTask { await started.peers.run() }
                    group.addTask { await console.run() }
                    group.addTask { await discovery.run() }
                    if let payments = self.payments { group.addTask { await payments.run() } }
                    if let gossip = self.gossip { group.addTask { await gossip.run() } }
                    if let negotiations = self.negotiationsBox.withLockedValue({ $0 }) { group.addTask { await negotiations.run() } }
                    if let feed = self.webViewBox.withLockedValue({ $0 }) { group.addTask { await feed.run() } }
                    if let routed = self.routedBox.withLockedValue({ $0 }) { group.addTask { await routed.run() } }
                    for await _ in stopSignal.stream { break }
                    logger.info("stopping")
                    discovery.stop() // withdraw our service before the connections go
                    await console.close()
                    await started.peers.shutdown()
                    await self.negotiationsBox.withLockedValue { $0 }?.shutdown()
                    await self.gossip?.shutdown()
                    await self.payments?.shutdown()
                    await endpoint.shutdown()
                    events.finish()
                    group.cancelAll()
                }
            } onCancel: {
                self.requestStop()
            }
        } onGracefulShutdown: {
            self.requestStop()
        }
        if let httpFailure { throw httpFailure }
        logger.info("stopped")
    }

    private func start() async throws -> (Started, PaymeshEndpoint, ConsoleServer, NodeDiscovery, HTTPListener?) {
        let directory = DataDirectory.expand(configuration.dataDirectory)
        try DataDirectory.ensurePrivate(directory)
        // One node per data directory, for as long as it runs (checked before anything is read).
        let lock = try DataDirectoryLock(directory: directory)
        lockBox.withLockedValue { $0 = lock }
        let (key, created) = try IdentityStore(directory: directory).loadOrCreate()
        logger.info(created ? "created identity" : "loaded identity", metadata: ["id": "\(key.address)", "data_dir": "\(directory)"])
        // Sockets are descriptors: use the whole hard limit (issue 7 item 3).
        DescriptorLimit.raiseSoftLimit()
        // The endpoint offers no stream protocol until services register theirs with the peer
        // manager's router; it listens once they have (so every handshake advertises them).
        let endpoint = try PaymeshEndpoint(configuration: .init(identity: key), group: group)
        let peers = PeerManager(endpoint: endpoint, configuration: configuration.peers, events: events,
                                logger: logger.with("component", "peers"), clock: configuration.clock, random: configuration.random)
        // Payments: the channel store and the payments stream (Sources/PaymeshNode/Payments).
        let payments: PaymentsService
        do {
            payments = try await PaymentsService.start(
                directory: directory, key: key, peers: peers, events: events,
                configuration: configuration.payments, logger: logger.with("component", "payments"),
                clock: configuration.clock, random: configuration.random, metrics: metricsCollector.metrics)
            paymentsBox.withLockedValue { $0 = payments }
        } catch {
            await endpoint.shutdown()
            throw error
        }
        // Gossip: the network graph and service directory (Sources/PaymeshNode/Gossip).
        var gossip: GossipService?
        if let gossipConfiguration = configuration.gossip {
            do {
                gossip = try await GossipService.start(
                    key: key, peers: peers, payments: payments, events: events, configuration: gossipConfiguration,
                    logger: logger.with("component", "gossip"), clock: configuration.clock, random: configuration.random)
                gossipBox.withLockedValue { $0 = gossip }
            } catch {
                await payments.shutdown()
                await endpoint.shutdown()
                throw error
            }
        }
        let bound: SocketAddress
        do {
            bound = try await endpoint.listen(host: configuration.listen.host, port: configuration.listen.port)
        } catch {
            await gossip?.shutdown()
            await payments.shutdown()
            await endpoint.shutdown()
            throw NodeError.configuration("cannot listen on \(configuration.listen): \(error)")
        }
        let listen = PeerEndpoint(host: bound.ipAddress ?? configuration.listen.host, port: bound.port ?? configuration.listen.port)
        let discovery = NodeDiscovery(enabled: configuration.mdns, local: key.address, listenPort: listen.port, peers: peers,
                                      logger: logger.with("component", "discovery"), clock: configuration.clock,
                                      allow: configuration.discoverAllow)
        let consolePath = directory + "/" + NodeConfiguration.consoleSocketName
        let info = NodeMethods.Info(id: key.address, version: Self.version, listen: [listen], consolePath: consolePath,
                                    clock: configuration.clock)
        registry.register(NodeMethods(info: info, peers: peers, logLevel: logLevel, events: events,
                                      stop: { [weak self] in self?.requestStop() }, store: { [weak self] in self?.payments?.storeHealth },
                                      scrape: { [metricsCollector] in await metricsCollector.scrape() }))
        registry.register(SessionMethods(registry: registry, events: events))
        registry.register(PeerMethods(peers: peers))
        registry.register(DiscoveryMethods(discovery: discovery, peers: peers))
        // Routed payments (Sources/PaymeshNode/Routing): invoices, path search, the payment journal.
        var routed: RoutedPayments?
        if let gossip {
            do { routed = try RoutedPayments(payments: payments, gossip: gossip, limits: configuration.routing) } catch {
                await gossip.shutdown()
                await payments.shutdown()
                await endpoint.shutdown()
                throw error
            }
        }
        registry.register(PaymentsMethods(payments: payments, routed: routed))
        if let gossip {
            if (configuration.gossip?.addresses ?? []).isEmpty { await gossip.setAddresses([listen.description]) }
            registry.register(GossipMethods(gossip: gossip, payments: payments))
            registry.register(RoutingMethods(gossip: gossip, payments: payments, routed: routed))
        }
        if let routed {
            routedBox.withLockedValue { $0 = routed }
            registry.register(RoutedPaymentMethods(routed: routed, payments: payments))
        }
        let catalog: ServiceCatalog
        do {
            catalog = try ServiceCatalog(directory: directory, gossip: gossip)
        } catch {
            await gossip?.shutdown()
            await payments.shutdown()
            await endpoint.shutdown()
            throw error
        }
        catalogBox.withLockedValue { $0 = catalog }
        registry.register(ServiceMethods(catalog: catalog, payments: payments))
        // Buying over HTTP (console http.fetch, Specs/http402.md §11): its journal shares the payments table.
        do { registry.register(FetchMethods(fetcher: try HTTPFetcher(payments: payments, routed: routed, exchange: NIOHTTPExchange(group: group)))) } catch {
            await gossip?.shutdown()
            await payments.shutdown()
            await endpoint.shutdown()
            throw error
        }
        // Negotiation, dynamic prices and SLA of the services (Sources/PaymeshNode/Market; Specs/negotiation.md).
        let market: ServiceMarket
        do {
            market = try ServiceMarket(directory: directory, key: key, catalog: catalog, events: events, clock: configuration.clock,
                                       logger: logger.with("component", "market"))
        } catch {
            await gossip?.shutdown()
            await payments.shutdown()
            await endpoint.shutdown()
            throw error
        }
        let negotiations = await NegotiationService.start(key: key, payments: payments, peers: peers, market: market, events: events,
                                                          clock: configuration.clock, random: configuration.random,
                                                          logger: logger.with("component", "negotiation"))
        negotiationsBox.withLockedValue { $0 = negotiations }
        registry.register(NegotiationMethods(negotiations: negotiations, market: market, payments: payments))
        registry.register(MarketMethods(market: market, catalog: catalog))
        metricsCollector.attach(peers: peers, payments: payments, events: events, gossip: gossip, clock: configuration.clock)
        // A2A: the durable tasks are read back (and interrupted ones resolved) before anything is served.
        var a2aRoutes: A2ARoutes?
        if configuration.http != nil {
            do {
                let routes = A2ARoutes(catalog: catalog, payments: payments, payee: key.address, group: group,
                                       clock: configuration.clock, random: configuration.random, version: Self.version,
                                       files: try A2ATaskFiles(dataDirectory: directory), logger: logger.with("component", "a2a"))
                try await routes.service.recover()
                a2aRoutes = routes
            } catch {
                await gossip?.shutdown()
                await payments.shutdown()
                await endpoint.shutdown()
                throw error
            }
        }
        let a2a = a2aRoutes
        // The HTTP listener and one route group per feature (it binds in run(), before ready).
        let http = configuration.http.map { endpoint in
            let feed = WebViewFeed(events: events, sources: .init(info: info, peers: peers, payments: payments, gossip: gossip))
            webViewBox.withLockedValue { $0 = feed }
            var groups: [any HTTPRouteGroup] = [MetricsRoutes(collector: metricsCollector),
                                                GatewayRoutes(catalog: catalog, payments: payments, payee: key.address, group: group,
                                                              l402: routed.map { L402Issuer(routed: $0, payments: payments) },
                                                              market: market, secondStep: configuration.secondStep),
                                                WebViewRoutes(feed: feed)]
            if let a2a { groups.append(a2a) }
            return HTTPListener(endpoint: endpoint, groups: groups, logger: logger.with("component", "http"))
        }
        let console = ConsoleServer(path: consolePath, registry: registry, group: group,
                                    maxLineBytes: configuration.consoleMaxLineBytes, logger: logger.with("component", "console"))
        do {
            try await console.bind()
        } catch {
            await gossip?.shutdown()
            await payments.shutdown()
            await endpoint.shutdown()
            throw error
        }
        for peer in configuration.staticPeers { await peers.addStaticPeer(peer, expected: configuration.pinnedPeers[peer]) }
        await discovery.prepare()
        logger.info("listening", metadata: ["id": "\(key.address)", "listen": "\(listen)", "console": "\(consolePath)"])
        return (Started(id: key.address, listen: listen, consolePath: consolePath, peers: peers, createdIdentity: created), endpoint, console,
                discovery, http)
    }

    private func settle(_ result: Result<Started, any Error>) {
        let waiters = readiness.withLockedValue { r in
            r.result = result
            defer { r.waiters.removeAll() }
            return r.waiters
        }
        for w in waiters { w.resume(with: result) }
    }
}

extension Logger {
    func with(_ key: String, _ value: String) -> Logger {
        var copy = self
        copy[metadataKey: key] = "\(value)"
        return copy
    }
}
