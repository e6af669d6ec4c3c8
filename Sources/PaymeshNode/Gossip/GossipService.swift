import Foundation
public import Logging
import NIOCore
import PaymeshChannels
public import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import PaymeshTransport

/// What a deadline of the gossip driver stands for.
enum GossipDeadline: Hashable, Sendable {
    case heartbeat, refresh, prune
}

/// The gossip layer of a node: the thin driver of a `GossipRouter` (GossipSub v1.1, scoring,
/// bounded queues) and its `NetworkGraph` (the validator), over `/paymesh/gossip/1`
/// (Specs/gossip.md). The router decides; this actor feeds it (link events, inbound bytes,
/// heartbeats on the injected clock, the node's own messages) and performs what it returns:
/// frames go to one writer per peer whose queue the router bounds (`maxPendingFramesPerPeer`, it
/// counts what does not fit), deliveries become typed `NodeEvent.gossip` events. It also runs the
/// channel-announcement exchange (§7.5, `AnnouncementExchange`) and publishes this node's own node,
/// channel and service announcements (§8.3). Every deadline sits in one `DeadlineQueue` with one
/// sleeping task; nothing polls.
public actor GossipService {
    let key: IdentityKey
    let me: EthereumAddress
    let peers: PeerManager
    let payments: PaymentsService?
    let events: NodeEventHub
    let configuration: GossipConfiguration
    let logger: Logger
    let clock: any NodeClock
    let random: NodeRandom

    var router: GossipRouter
    var graph: NetworkGraph
    var exchange: AnnouncementExchange

    /// Per gossip peer: the queue its writer drains (bounded by the router's pending count) and
    /// the stream the peer opened to us (closed when framing is lost).
    struct Outbox {
        let generation: UInt64
        let frames: AsyncStream<[UInt8]>.Continuation
    }
    var outboxes: [EthereumAddress: Outbox] = [:]
    var inbound: [EthereumAddress: any PeerStream] = [:]
    var nextGeneration: UInt64 = 1

    var deadlines = DeadlineQueue<GossipDeadline>()
    var sleeper = DeadlineSleeper()
    /// This node's advertised services by name (re-published at every refresh).
    var ownServices: [String: OwnService] = [:]
    var driverCounters = DriverCounters()
    /// The body timestamp of our last own message (ours are strictly increasing, §5.4).
    var lastOwnTimestamp: UInt64 = 0
    /// When the next heartbeat is due.
    var heartbeatDue: NodeInstant?
    /// A gossip peer joined since our last re-announcement (§8.3): re-announce at the next
    /// heartbeat (its SUBSCRIBE has arrived by then), at most once per `reannounceMinInterval`.
    var reannounceWanted = false
    var lastReannounce: NodeInstant?
    /// The node announcement's listen addresses (`setAddresses` once the endpoint listens).
    var addresses: [String]
    var peerEvents: PeerLinkEvents?
    /// The payments layer's channel-state signal (lossless in effect: coalesced "look again").
    var channelChanges: AsyncStream<Void>?
    let jobs: AsyncStream<@Sendable () async -> Void>
    let jobContinuation: AsyncStream<@Sendable () async -> Void>.Continuation
    let changes = ChangeSignal()
    var stopped = false

    struct OwnService: Sendable {
        var announcement: ServiceAnnouncement
        var lifetimeMillis: UInt64
    }

    /// What the driver counts besides the router (`gossip.status`).
    public struct DriverCounters: Sendable, Hashable {
        public var heartbeats = 0
        public var writeFailures = 0
        public var streamOpenFailures = 0
        public var announcementsRefused = 0
        public var prunedChannels = 0
        public var prunedNodes = 0
        public var prunedServices = 0
        /// Acts of misbehaviour reported to the peer manager (`GossipMisbehaviour`).
        public var misbehaviourReported = 0
    }

    init(key: IdentityKey, peers: PeerManager, payments: PaymentsService?, events: NodeEventHub,
         configuration: GossipConfiguration, logger: Logger, clock: any NodeClock, random: NodeRandom) {
        self.key = key
        me = key.address
        self.peers = peers
        self.payments = payments
        self.events = events
        self.configuration = configuration
        self.logger = logger
        self.clock = clock
        self.random = random
        addresses = configuration.addresses
        router = GossipRouter(localID: key.address, parameters: configuration.parameters)
        graph = NetworkGraph(limits: configuration.graphLimits)
        exchange = AnnouncementExchange(key: key, terms: configuration.channelTerms,
                                        windowMillis: configuration.parameters.maxMessageAgeMillis)
        (jobs, jobContinuation) = AsyncStream.makeStream()
    }

    /// Registers `/paymesh/gossip/1` with the peer manager's router, subscribes to the three
    /// topics and schedules the heartbeat, the refresh and pruning. `payments` (when given) is
    /// where the node's channels come from for the announcement exchange.
    public static func start(key: IdentityKey, peers: PeerManager, payments: PaymentsService?, events: NodeEventHub,
                             configuration: GossipConfiguration = GossipConfiguration(), logger: Logger,
                             clock: any NodeClock = SystemClock(), random: NodeRandom = .system()) async throws -> GossipService {
        // Checked before anything is registered: a bad alias or address list is a configuration error.
        do throws(GossipError) {
            _ = try NodeAnnouncement(alias: configuration.alias, addresses: configuration.addresses,
                                     features: [], onionKey: key.publicKey)
        } catch {
            throw NodeError.configuration("gossip node announcement: \(error.detail)")
        }
        let service = GossipService(key: key, peers: peers, payments: payments, events: events, configuration: configuration,
                                    logger: logger, clock: clock, random: random)
        await service.prepare()
        try peers.router.register(GossipProtocol.id, feature: GossipProtocol.feature) { stream, peer in
            await service.adopt(stream, from: peer)
        }
        return service
    }

    private func prepare() {
        peerEvents = peers.linkEvents()
        channelChanges = payments?.channelChanges.watch()
        var rng = random.generatorView
        for topic in GossipTopic.all { perform(router.subscribe(topic, now: now(), rng: &rng)) }
        scheduleHeartbeat()
        schedule(.refresh, at: clock.now) // the first node announcement at once
        schedule(.prune, at: instant(after: configuration.pruneInterval))
    }

    /// Runs the link-event consumer, the channel watcher, stream readers and writers until `shutdown()`.
    public func run() async {
        let peerEvents = self.peerEvents, channelChanges = self.channelChanges
        await withDiscardingTaskGroup { group in
            if let peerEvents {
                group.addTask {
                    for await e in peerEvents {
                        switch e {
                        case .up(let peer, let connection): await self.linkUp(peer, features: connection.peer.features)
                        case .down(let peer, let reason): await self.dropPeer(peer, reason: reason)
                        }
                    }
                }
            }
            if let channelChanges {
                group.addTask {
                    await self.syncChannels()
                    for await _ in channelChanges { await self.syncChannels() }
                }
            }
            for await job in jobs { group.addTask { await job() } }
            group.cancelAll()
        }
    }

    /// Closes every gossip stream and stops the timers.
    public func shutdown() {
        guard !stopped else { return }
        stopped = true
        sleeper.stop()
        for peer in outboxes.keys.sorted() { dropPeer(peer, reason: "shutdown") }
        changes.finish()
        jobContinuation.finish()
    }

    func spawn(_ job: @escaping @Sendable () async -> Void) { jobContinuation.yield(job) }

    /// Wall-clock milliseconds from the injected clock (message and announcement timestamps).
    nonisolated func now() -> UInt64 { clock.unixMillis }

    func instant(after duration: Duration) -> NodeInstant { clock.now.advanced(by: duration) }

    // MARK: peers and streams

    private func linkUp(_ peer: EthereumAddress, features: [String]) {
        guard features.contains(GossipProtocol.feature) else { return }
        ensurePeer(peer)
    }

    /// Makes `peer` a gossip peer (Specs/gossip.md §1): the router learns it at once (frames for it
    /// wait in its queue) and a writer opens our stream to it.
    func ensurePeer(_ peer: EthereumAddress) {
        guard !stopped, outboxes[peer] == nil, peer != me else { return }
        let (frames, continuation) = AsyncStream<[UInt8]>.makeStream()
        let generation = nextGeneration
        nextGeneration += 1
        outboxes[peer] = Outbox(generation: generation, frames: continuation)
        perform(router.onPeerConnected(peer, now: now()))
        perform(exchange.repropose(to: peer, now: now()))
        reannounceWanted = true
        let peers = self.peers
        spawn {
            var stream: (any PeerStream)?
            if let connection = await peers.connection(to: peer) {
                stream = try? await connection.openStream(GossipProtocol.id)
            }
            guard let stream else { return await self.writerEnded(peer, generation, openFailed: true) }
            for await bytes in frames {
                do { try await stream.write(ByteBuffer(bytes: bytes)) } catch {
                    stream.reset()
                    return await self.writerEnded(peer, generation, openFailed: false)
                }
                await self.sent(peer, generation)
            }
            stream.close()
        }
    }

    private func sent(_ peer: EthereumAddress, _ generation: UInt64) {
        guard outboxes[peer]?.generation == generation else { return }
        perform(router.onSent(to: peer))
        changes.signal()
    }

    private func writerEnded(_ peer: EthereumAddress, _ generation: UInt64, openFailed: Bool) {
        guard outboxes[peer]?.generation == generation else { return }
        if openFailed { driverCounters.streamOpenFailures += 1 } else { driverCounters.writeFailures += 1 }
        dropPeer(peer, reason: openFailed ? "cannot open a gossip stream" : "gossip stream write failed")
    }

    /// The peer's link went down, its stream failed, or framing with it was lost.
    func dropPeer(_ peer: EthereumAddress, reason: String) {
        inbound.removeValue(forKey: peer)?.reset()
        guard let outbox = outboxes.removeValue(forKey: peer) else { return }
        outbox.frames.finish()
        router.onPeerDisconnected(peer, now: now())
        logger.debug("gossip peer gone", metadata: ["peer": "\(peer)", "reason": "\(reason)"])
        changes.signal()
    }

    /// A stream the peer opened to us (the ProtocolRouter's handler). Returns at once.
    func adopt(_ stream: any PeerStream, from peer: EthereumAddress) {
        guard !stopped else { return stream.reset() }
        inbound.removeValue(forKey: peer)?.reset() // a newer stream replaces an older one
        inbound[peer] = stream
        ensurePeer(peer)
        spawn {
            do {
                for try await chunk in stream.inbound {
                    await self.received(Array(chunk.readableBytesView), from: peer, on: stream)
                }
            } catch {}
        }
    }

    private func received(_ bytes: [UInt8], from peer: EthereumAddress, on stream: any PeerStream) {
        guard inbound[peer] === stream else { return }
        perform(router.onBytes(bytes, from: peer, now: now(), validator: &graph))
        changes.signal()
    }

    // MARK: performing the router's actions

    func perform(_ actions: [GossipAction]) {
        var misbehaviour = GossipMisbehaviour()
        defer { report(misbehaviour) }
        for action in actions {
            switch action {
            case .send(let frame, let peer):
                if let outbox = outboxes[peer] { outbox.frames.yield(frame.encoded()) } else { perform(router.onSent(to: peer)) }
            case .deliver(let message):
                delivered(message)
            case .misbehaviour(let peer, let error):
                logger.debug("gossip: invalid from peer", metadata: ["peer": "\(peer)", "error": "\(error)"])
                misbehaviour.note(peer, error)
            case .closeStream(let peer, let error):
                logger.notice("gossip framing lost; closing the peer's gossip stream", metadata: ["peer": "\(peer)", "error": "\(error)"])
                misbehaviour.note(peer, error)
                dropPeer(peer, reason: "framing lost: \(error)")
            case .announceSignatures(let announce, let peer):
                if exchange.channels[announce.channelID] == nil, payments != nil {
                    // The proposal may come before our payments layer's event: read the channels first.
                    spawn {
                        await self.syncChannels()
                        await self.announcementReceived(announce, from: peer)
                    }
                } else {
                    announcementReceived(announce, from: peer)
                }
            }
        }
    }

    /// What an honest peer never sends, counted against it in the peer table (one report per
    /// peer per batch of actions), which bans it per its misbehaviour policy.
    private func report(_ misbehaviour: GossipMisbehaviour) {
        guard !misbehaviour.reports.isEmpty else { return }
        let peers = self.peers
        for (peer, report) in misbehaviour.reports.sorted(by: { $0.key < $1.key }) {
            driverCounters.misbehaviourReported += report.count
            logger.notice("gossip peer misbehaved", metadata: ["peer": "\(peer)", "count": "\(report.count)", "first": "\(report.first)"])
            spawn { await peers.reportMisbehaviour(peer, count: report.count, reason: "gossip: \(report.first)") }
        }
    }

    private func announcementReceived(_ announce: ChannelAnnounce, from peer: EthereumAddress) {
        guard !stopped else { return }
        perform(exchange.received(announce, from: peer, now: now()))
    }

    /// A new valid message the graph accepted (from a peer, or our own): the typed event.
    private func delivered(_ message: GossipMessage) {
        switch message.payload {
        case .channelAnnounce(let a):
            // New to the graph (not a refresh) when first seen now.
            if graph.channels[a.channelID]?.firstSeen == graph.channels[a.channelID]?.lastRefresh,
               graph.channels[a.channelID]?.announcement.timestamp == a.timestamp {
                events.publish(.gossip(.channelAnnounced(a.channelID, peerA: a.peerA, peerB: a.peerB,
                                                         capacity: a.capacity.atomicUnits, asset: a.asset.id)))
            }
        case .channelUpdate:
            break
        case .node(let n):
            events.publish(.gossip(.nodeAnnounced(message.origin, alias: n.alias)))
        case .service(let s):
            if s.expires <= message.timestamp {
                events.publish(.gossip(.serviceWithdrawn(origin: message.origin, name: s.name)))
            } else {
                events.publish(.gossip(.serviceAnnounced(origin: message.origin, name: s.name, price: s.price.atomicUnits, asset: s.asset.id)))
            }
        }
    }

    /// The channel exchange's actions.
    func perform(_ actions: [AnnouncementExchange.Action]) {
        for action in actions {
            switch action {
            case .send(let announce, let peer):
                perform(router.sendAnnounceSignatures(announce, to: peer))
            case .publish(let announce):
                publishOwn(.channelAnnounce(announce))
                publishUpdate(announce.channelID, capacity: announce.capacity, enabled: true)
            case .withdrawn(let id):
                publishUpdate(id, capacity: nil, enabled: false)
            case .refused(let id, let peer, let why):
                driverCounters.announcementsRefused += 1
                logger.notice("gossip: channel announcement not signed", metadata: ["channel": "\(id)", "peer": "\(peer)", "reason": "\(why)"])
            }
        }
    }

    // MARK: our own messages

    /// Signs `payload` as this node, applies it to our graph (the router does not validate its own
    /// messages) and publishes it (flood publishing, §9.3).
    @discardableResult
    func publishOwn(_ payload: GossipPayload) -> Bool {
        let timestamp = max(now(), lastOwnTimestamp + 1)
        let message: GossipMessage
        do { message = try GossipMessage.sign(payload, timestamp: timestamp, with: key) } catch {
            logger.error("gossip: cannot sign our own message", metadata: ["error": "\(error)"])
            return false
        }
        lastOwnTimestamp = timestamp
        switch graph.validate(message, now: timestamp) {
        case .accept: delivered(message)
        case .reject(let why), .ignore(let why):
            logger.debug("gossip: own message not applied to our graph", metadata: ["reason": "\(why)"])
        }
        perform(router.publish(message, now: timestamp))
        changes.signal()
        return true
    }

    private func publishUpdate(_ id: ChannelID, capacity: Amount?, enabled: Bool) {
        let t = configuration.channelTerms
        let capacity = capacity ?? graph.channels[id]?.announcement.capacity ?? t.htlcMinimum
        let maximum = min(t.htlcMaximum ?? capacity, capacity)
        guard let update = try? ChannelUpdate(channelID: id, feeBase: t.feeBase, feePPM: t.feePPM, htlcMinimum: min(t.htlcMinimum, maximum),
                                              htlcMaximum: maximum, expiryDeltaMillis: t.expiryDeltaMillis, enabled: enabled) else { return }
        publishOwn(.channelUpdate(update))
    }

    func publishNodeAnnouncement() {
        guard let node = try? NodeAnnouncement(alias: configuration.alias, addresses: addresses,
                                               features: peers.router.features, onionKey: key.publicKey) else { return }
        publishOwn(.node(node))
    }

    /// §8.3: the node announcement, each complete channel announcement with our update, every
    /// advertised service with a new expiry, and proposals still unanswered.
    private func refresh() {
        publishNodeAnnouncement()
        for announce in exchange.complete.values.sorted(by: { $0.channelID.bytes.lexicographicallyPrecedes($1.channelID.bytes) }) {
            publishOwn(.channelAnnounce(announce))
            publishUpdate(announce.channelID, capacity: announce.capacity, enabled: true)
        }
        for name in ownServices.keys.sorted() {
            guard var own = ownServices[name] else { continue }
            own.announcement.expires = now() + own.lifetimeMillis
            ownServices[name] = own
            publishOwn(.service(own.announcement))
        }
        perform(exchange.repropose(now: now()))
    }

    /// The listen addresses of the node announcement (the daemon's, once it listens); re-announced at once.
    public func setAddresses(_ list: [String]) {
        let valid = Array(list.filter { NodeAnnouncement.addressBytes.contains($0.utf8.count) }.prefix(NodeAnnouncement.maxAddresses))
        guard valid != addresses else { return }
        addresses = valid
        if !stopped { publishNodeAnnouncement() }
    }

    // MARK: channels from the payments layer

    /// Reads the node's channels and hands the announceable ones (OPEN or ACTIVE) to the exchange.
    func syncChannels() async {
        guard let payments else { return }
        let views = await payments.views()
        let current = views.compactMap { v -> AnnouncementExchange.LocalChannel? in
            let s = v.snapshot
            guard s.state == .open || s.state == .active else { return nil }
            return AnnouncementExchange.LocalChannel(id: s.terms.channelID, payer: s.terms.payer, payee: s.terms.payee,
                                                     capacity: Amount(s.terms.deposit), asset: s.terms.asset)
        }
        guard !stopped else { return }
        perform(exchange.sync(current, now: now()))
    }

    // MARK: deadlines

    func schedule(_ key: GossipDeadline, at deadline: NodeInstant) {
        guard !stopped else { return }
        if deadlines.schedule(key, at: deadline) { arm() }
    }

    private func arm() {
        guard !stopped else { return }
        sleeper.arm(deadlines.earliest, clock: clock) { [weak self] generation in await self?.due(generation) }
    }

    private func due(_ generation: UInt64) {
        guard sleeper.woke(generation), !stopped else { return }
        for key in deadlines.popDue(now: clock.now) {
            switch key {
            case .heartbeat:
                var rng = random.generatorView
                perform(router.onHeartbeat(now: now(), rng: &rng))
                driverCounters.heartbeats += 1
                scheduleHeartbeat()
                if reannounceWanted, lastReannounce.map({ $0.advanced(by: configuration.reannounceMinInterval) <= clock.now }) ?? true {
                    reannounceWanted = false
                    lastReannounce = clock.now
                    refresh()
                }
            case .refresh:
                refresh()
                schedule(.refresh, at: instant(after: configuration.refreshInterval))
            case .prune:
                let pruned = graph.prune(now: now())
                driverCounters.prunedChannels += pruned.channels
                driverCounters.prunedNodes += pruned.nodes
                driverCounters.prunedServices += pruned.services
                schedule(.prune, at: instant(after: configuration.pruneInterval))
            }
        }
        changes.signal()
        arm()
    }

    /// The monotonic instant of the next heartbeat (tests: has this node run the heartbeat due now?).
    public var nextHeartbeat: NodeInstant? { heartbeatDue }

    private func scheduleHeartbeat() {
        let at = instant(after: .milliseconds(Int64(clamping: configuration.parameters.heartbeatMillis)))
        heartbeatDue = at
        schedule(.heartbeat, at: at)
    }
}
