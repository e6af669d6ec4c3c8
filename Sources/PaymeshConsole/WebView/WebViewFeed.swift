import PaymeshChannels
import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import PaymeshNode

/// What the web view serves (Specs/webview.md): the node's state as one JSON snapshot, and its
/// typed `NodeEvent`s as a live feed for any number of browser clients, each bounded.
///
/// The feed subscribes to the `NodeEventHub` the first time it is used (a page, a snapshot or an
/// event stream was asked for), not before: a node nobody watches publishes no per-payment events.
/// From then on one subscription feeds the `PaymentLog` and every client. A client whose queue
/// is full (`clientBuffer`) is dropped — counted, and told so when its stream ends — and reconnects;
/// when the feed itself falls behind the hub, every client is dropped the same way (each reloads
/// the snapshot). Read-only: nothing here changes the node.
public actor WebViewFeed {
    /// Browser clients of `/events` at once; one more is refused (503).
    public static let maxClients = 32
    /// Undelivered messages one client may hold before it is dropped.
    public static let clientBuffer = 1_024
    /// The feed's own subscription to the hub (events it has not handled yet).
    public static let hubBuffer = NodeEventHub.bufferPerSubscriber
    /// A comment line is sent this often, so an idle stream shows that it is alive and a client
    /// that went away is noticed.
    public static let keepaliveInterval: Duration = .seconds(15)

    /// One server-sent event: `name` and compact JSON `data` (one line), numbered by `id`.
    public struct Message: Sendable, Hashable {
        public var name: String
        public var id: UInt64
        public var data: String
    }

    /// What a client's stream carries.
    public enum Delivery: Sendable, Hashable {
        case message(Message)
        case keepalive
    }

    /// What a joining client gets: its id (for `leave`), the `hello` message, and its stream.
    public struct Client: Sendable {
        public let id: UInt64
        public let hello: Message
        public let stream: AsyncStream<Delivery>
    }

    public struct Counters: Sendable, Hashable {
        public var clients = 0
        /// Clients dropped because their queue was full, or because the feed fell behind.
        public var droppedClients: UInt64 = 0
        /// Messages not delivered to clients that were dropped.
        public var droppedMessages: UInt64 = 0
        /// Events the feed itself lost to the hub's bound (each dropped every client).
        public var missedEvents: UInt64 = 0
    }

    /// What the snapshot reads: the node's features (set once the node has built them).
    public struct Sources: Sendable {
        public var info: NodeMethods.Info
        public var peers: PeerManager
        public var payments: PaymentsService
        public var gossip: GossipService?

        public init(info: NodeMethods.Info, peers: PeerManager, payments: PaymentsService, gossip: GossipService?) {
            self.info = info
            self.peers = peers
            self.payments = payments
            self.gossip = gossip
        }
    }

    private struct ClientState {
        var continuation: AsyncStream<Delivery>.Continuation
        /// Messages it missed once its queue was full (it is then only waiting to leave).
        var dropped: UInt64?
    }

    private let events: NodeEventHub
    private let sources: Sources
    private var log = PaymentLog()
    private var assets: [ChannelID: Asset] = [:]
    private var clients: [UInt64: ClientState] = [:]
    private var nextClient: UInt64 = 0
    private var nextMessage: UInt64 = 0
    private var counters = Counters()
    private var subscribed = false
    private var ended = false
    private let activation: (stream: AsyncStream<NodeEventSubscription>, continuation: AsyncStream<NodeEventSubscription>.Continuation)

    public init(events: NodeEventHub, sources: Sources) {
        self.events = events
        self.sources = sources
        activation = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(1))
    }

    /// Runs the feed (a child task of the node's run): idle until first used, then handles the
    /// hub's events until the hub finishes or the task is cancelled; then ends every client.
    public func run() async {
        var subscription: NodeEventSubscription?
        for await s in activation.stream {
            subscription = s
            break
        }
        if let subscription {
            await withDiscardingTaskGroup { group in
                group.addTask { [clock = sources.info.clock] in
                    while (try? await clock.sleep(for: Self.keepaliveInterval)) != nil { await self.broadcast(.keepalive) }
                }
                defer { subscription.cancel() }
                for await delivery in subscription { await self.handle(delivery) }
                group.cancelAll()
            }
        }
        end()
    }

    /// Subscribes to the hub on first use; the payment log starts from what the channels report.
    public func activate() async {
        guard !subscribed, !ended else { return }
        subscribed = true
        let subscription = events.subscribe(limit: Self.hubBuffer)
        for view in await sources.payments.views() {
            assets[view.snapshot.terms.channelID] = view.snapshot.terms.asset
            if view.snapshot.role == .payer { log.seed(view.snapshot.terms.channelID, acked: view.ackedAmount) }
        }
        activation.continuation.yield(subscription)
        activation.continuation.finish()
    }

    /// A new `/events` client, subscribed before its `hello` (every event after it reaches it);
    /// nil when `maxClients` are connected or the node is stopping.
    public func join() async -> Client? {
        await activate()
        guard !ended, clients.count < Self.maxClients else { return nil }
        nextClient += 1
        let id = nextClient
        let (stream, continuation) = AsyncStream<Delivery>.makeStream(bufferingPolicy: .bufferingOldest(Self.clientBuffer))
        clients[id] = ClientState(continuation: continuation)
        counters.clients = clients.count
        let hello: JSONValue = ["node": .string(sources.info.id.description), "client": JSONValue(id), "payments": JSONValue(log.total),
                                "now": JSONValue(sources.info.clock.unixMillis)]
        return Client(id: id, hello: Message(name: "hello", id: nextMessage, data: hello.description), stream: stream)
    }

    /// A client's stream ended (it went away, or was dropped). Returns how many messages it
    /// missed when it was dropped (the route tells the browser), else nil.
    public func leave(_ id: UInt64) -> UInt64? {
        let state = clients.removeValue(forKey: id)
        state?.continuation.finish()
        counters.clients = clients.count
        return state?.dropped
    }

    public var feedCounters: Counters { counters }

    private func handle(_ delivery: NodeEventSubscription.Delivery) async {
        switch delivery {
        case .dropped(let count):
            // The log and every client missed events: drop them all; each reloads the snapshot.
            counters.missedEvents += count
            for id in clients.keys { drop(id, missed: count) }
        case .event(let event):
            var asset: Asset?
            if let channel = PaymentLog.channel(of: event) {
                if let known = assets[channel] {
                    asset = known
                } else if let view = await sources.payments.view(channel) {
                    asset = view.snapshot.terms.asset
                    assets[channel] = asset
                }
            }
            let record = log.record(event, atUnixMillis: sources.info.clock.unixMillis, asset: asset)
            guard !clients.isEmpty else { return }
            let (name, data) = WebViewJSON.event(event, asset: asset, record: record)
            nextMessage += 1
            broadcast(.message(Message(name: name, id: nextMessage, data: data.description)))
        }
    }

    private func broadcast(_ delivery: Delivery) {
        for (id, client) in clients {
            if var missed = client.dropped {
                missed += 1
                clients[id]?.dropped = missed
                counters.droppedMessages += 1
                continue
            }
            if case .dropped = client.continuation.yield(delivery) { drop(id, missed: 1) }
        }
    }

    private func drop(_ id: UInt64, missed: UInt64) {
        guard let client = clients[id], client.dropped == nil else { return }
        clients[id]?.dropped = missed
        counters.droppedClients += 1
        counters.droppedMessages += missed
        client.continuation.finish()
    }

    private func end() {
        ended = true
        activation.continuation.finish()
        for client in clients.values { client.continuation.finish() }
    }

    /// The node as the page first draws it (Specs/webview.md, "Snapshot").
    public func snapshot() async -> JSONValue {
        await activate()
        let s = sources
        let peers = await s.peers.snapshot()
        let status = await s.gossip?.status()
        let views = await s.payments.views()
        for v in views { assets[v.snapshot.terms.channelID] = v.snapshot.terms.asset }
        let graphNodes = await s.gossip?.graphNodes() ?? []
        let graphChannels = await s.gossip?.graphChannels() ?? []
        let htlcs = await s.payments.htlcEntries()
        return WebViewJSON.snapshot(info: s.info, peers: peers, gossip: status, channels: views, graphNodes: graphNodes,
                                    graphChannels: graphChannels, payments: log.records, paymentsTotal: log.total,
                                    htlcs: htlcs, assets: assets, feed: counters, now: s.info.clock.unixMillis)
    }
}
