import Foundation
public import Logging
import NIOCore
public import PaymeshChannels
public import PaymeshCrypto
public import PaymeshMessages
import PaymeshStore
import PaymeshTransport

/// The payments layer of a node: the thin driver of its `ChannelBook` (every payer and payee
/// channel machine and the dispatch of payments-stream messages (`/paymesh/payments/2`, or `/1`), sans-IO), over one stream
/// per peer, with channel state in the node's `ChannelStore`.
///
/// The book decides; this actor feeds it events (received chunks, peers coming back, deadlines,
/// settlement results, console calls) and performs what it returns in order (Specs/channels.md §1):
/// writes (`.persist`, `.recordReceipt`) are started at once and every later action of the same
/// list (`.send`, `.settle`, …) waits until they are durable. Pipelining comes from batching, not
/// from relaxing that rule: everything one actor turn produces (up to `signBatch` vouchers signed by
/// `pay`, or every message of a received chunk) becomes one `OutboxStep`, whose vouchers are one
/// store request per channel and so share one group commit; steps are released strictly in order.
/// Time comes from the injected clock: every deadline sits in one `DeadlineQueue` with one sleeping
/// task, and calls that wait (`pay`, `openChannel`, `closeChannel`, `streamUsage`) are resumed by
/// the events they wait for (`Waiters`), never by polling.
public actor PaymentsService {
    let key: IdentityKey
    let me: EthereumAddress
    let store: ChannelStore
    let ledger: NodeLedger
    let peers: PeerManager
    let events: NodeEventHub
    let logger: Logger
    let configuration: PaymentsConfiguration
    let clock: any NodeClock
    let random: NodeRandom

    /// Every channel of the node and the decisions about them (sans-IO); this actor performs
    /// what it returns.
    var book: ChannelBook
    /// The HTLCs of the channels whose voucher sequence the book owns (Specs/channels.md §12.10).
    var htlcs: HTLCBook
    /// Route payments waiting for their outcome: payment hash → first channel (`payRoute`).
    var routePayments: [Hash32: ChannelID] = [:]
    var routeResults: [Hash32: RoutePaymentResult] = [:]
    /// The expiry the sweeper's deadline is set for.
    var htlcSweepAt: UInt64?
    /// What the store holds for each channel (to write only what changed).
    var persisted: [ChannelID: Persisted] = [:]
    /// The stream we write to, per peer; `allLinks` also holds the others we read from.
    var links: [EthereumAddress: PaymentLink] = [:]
    var allLinks: [EthereumAddress: [UInt64: PaymentLink]] = [:]
    var opening: Set<EthereumAddress> = []
    /// Messages waiting for a stream to their peer.
    var pendingSends: [EthereumAddress: [Message]] = [:]
    var nextLinkID: UInt64 = 1
    var outbox = Outbox()
    /// Per channel, the last non-voucher write: the next one waits for it (keeps them in order).
    var coldTail: [ChannelID: Task<String?, Never>] = [:]
    /// The last guarded voucher request: done once it is enqueued in the store (keeps them in order).
    var voucherChain: Task<Void, Never>?
    /// Voucher requests of `voucherChain` not yet enqueued in the store, and per channel the cold
    /// writes not yet finished: when both are zero for a step, its vouchers are enqueued at once
    /// from this actor turn (no task in between, Outbox.enqueue).
    let chainLinks = ChainLinks()
    var coldPending: [ChannelID: Int] = [:]
    /// Channels to reload from the store after a failed write (see `reloadIfNeeded`).
    var needsReload: Set<ChannelID> = []
    /// `<datadir>/channels.marker`: exists once this node has stored a channel.
    let markerPath: String
    var markerWritten = false
    /// Refusals and latencies the console's calls report.
    var outcomes = PaymentOutcomes()
    var streams = StreamSessions()
    /// Counters of payments sent, acknowledged, received and refused (docs/operations.md).
    var paymentMetrics: PaymentMetrics
    let metrics: NodeMetrics
    var writer = PaymentStreamCodec()
    var peerEvents: PeerLinkEvents?
    /// Every deadline (channel timers, waiting calls, streaming ticks) and the one task asleep
    /// until the earliest of them (`PaymentsService+Deadlines`).
    var deadlines = DeadlineQueue<PaymentsDeadline>()
    var deadlineSleeper = DeadlineSleeper()
    /// Calls waiting for channel events, resumed by them (no polling).
    var waiters = Waiters()
    /// Verifies received vouchers' signatures on the streams' read tasks, before the turn.
    let precheck = VoucherPrecheck()
    /// The running `pay` bursts (progress and cancellation).
    var bursts = PayBursts()
    /// Gateway requests whose voucher is being persisted (`acceptHTTPPayment`), by token.
    var httpPayments = HTTPPaymentWaiters()
    /// Where NEGOTIATE_* messages go (`NegotiationService`); nil: answered with ERROR 1503.
    var negotiationInbox: NegotiationInbox?
    /// Signalled after every channel state change (the gossip service re-reads `views()`), whether
    /// or not anyone subscribes to the event hub.
    public nonisolated let channelChanges = ChangeSignal()
    /// Signalled after origin outcomes of HTLCs became durable (the payment journal re-reads them).
    public nonisolated let routeOutcomeChanges = ChangeSignal()
    let jobs: AsyncStream<PaymentsJob>
    let jobContinuation: AsyncStream<PaymentsJob>.Continuation
    var stopped = false

    /// What `run()` does for the rest of the service: start a task, or finish a voucher write.
    enum PaymentsJob: Sendable {
        case run(@Sendable () async -> Void)
        case written(step: UInt64, failure: String?)
    }

    struct Persisted {
        var cold: ColdKey
        var voucherNonce: UInt64
    }

    /// The part of a snapshot kept in `ChannelExtras` (compared on every persist; cheap).
    struct ColdKey: Equatable {
        var state: ChannelState
        var depositLocked: Bool
        var lockedAmount: UInt128
        var receiptSeq: UInt64
        var close: CloseRecord?

        init(_ s: ChannelSnapshot) {
            state = s.state == .active ? .open : s.state
            depositLocked = s.depositLocked
            lockedAmount = s.lockedAmount
            receiptSeq = s.receiptSeq
            close = s.close
        }
    }

    init(key: IdentityKey, store: ChannelStore, peers: PeerManager, events: NodeEventHub, configuration: PaymentsConfiguration,
         logger: Logger, markerPath: String, clock: any NodeClock, random: NodeRandom, metrics: NodeMetrics) {
        self.key = key
        self.metrics = metrics
        paymentMetrics = PaymentMetrics(metrics: metrics)
        self.clock = clock
        self.random = random
        self.markerPath = markerPath
        me = key.address
        self.store = store
        ledger = NodeLedger(store: store)
        self.peers = peers
        self.events = events
        self.configuration = configuration
        self.logger = logger
        book = ChannelBook(key: key, openPolicy: configuration.openPolicy, assets: AssetRegistry(configured: configuration.assets))
        htlcs = HTLCBook(key: key, policy: configuration.htlcPolicy)
        (jobs, jobContinuation) = AsyncStream.makeStream()
    }

    /// Opens `<directory>/channels.sqlite`, restores every channel and registers the inbound
    /// stream handler. Channels re-establish when their peer connects.
    public static func start(directory: String, key: IdentityKey, peers: PeerManager, events: NodeEventHub,
                             configuration: PaymentsConfiguration,
                             logger: Logger, clock: any NodeClock = SystemClock(),
                             random: NodeRandom = .system(), metrics: NodeMetrics = .disabled) async throws -> PaymentsService {
        guard configuration.openPolicy.maxChannelsPerPeer >= 1 else {
            throw NodeError.configuration("PAYMESH_MAX_CHANNELS_PER_PEER must be a number from 1 to 1000000")
        }
        let path = directory + "/" + PaymentsConfiguration.storeFileName
        let marker = ChannelsMarker(directory: directory)
        try marker.checkBeforeOpening(store: path)
        let store: ChannelStore
        do {
            store = try ChannelStore(path: path, configuration: StoreConfiguration(synchronous: configuration.synchronous))
        } catch {
            throw NodeError.configuration("cannot open the channel store: \(error)")
        }
        store.observeCommits(metrics.storeCommitted)
        let service = PaymentsService(key: key, store: store, peers: peers, events: events, configuration: configuration,
                                      logger: logger, markerPath: marker.path, clock: clock, random: random, metrics: metrics)
        do {
            try await service.restore()
        } catch {
            await store.close()
            throw error
        }
        await service.resumeCloses()
        await service.scheduleSweep()
        do {
            for version in PaymentsProtocol.versions {
                try peers.router.register(version.id, feature: version.feature) { stream, peer in
                    await service.adopt(stream, from: peer)
                }
            }
        } catch {
            await service.shutdown()
            throw error
        }
        return service
    }

    /// Runs stream readers, writes and timers until `shutdown()`.
    public func run() async {
        let peerEvents = self.peerEvents
        await withDiscardingTaskGroup { group in
            if let peerEvents {
                group.addTask {
                    for await e in peerEvents { await self.peerChanged(e.peer, up: e.isUp) }
                }
            }
            for await job in jobs {
                switch job {
                case .run(let body): group.addTask { await body() }
                // On this actor, in this turn: a durable voucher write releases its step's acks and
                // sends without another task in between (the writer thread → this loop → the peer).
                case .written(let step, let failure): await writeFinished(step, failure: failure)
                }
            }
            group.cancelAll()
        }
    }

    /// Stops the payment streams, lets queued writes finish, closes the store.
    public func shutdown() async {
        guard !stopped else { return }
        stopped = true
        for link in links.values { link.stream.close() }
        stopDeadlines()
        httpPayments.cancelAll()
        let tails = Array(coldTail.values)
        for t in tails { _ = await t.value }
        await voucherChain?.value
        await store.close()
        routeOutcomeChanges.finish()
        jobContinuation.finish()
    }

    func spawn(_ job: @escaping @Sendable () async -> Void) { jobContinuation.yield(.run(job)) }

    /// Wall-clock milliseconds from the injected clock (what goes on the wire and into the store).
    nonisolated func now() -> UInt64 { clock.unixMillis }
    /// Monotonic nanoseconds from the injected clock (latency, rates, deadlines of waits).
    nonisolated func nanos() -> UInt64 { clock.now.nanoseconds }

    // MARK: Restoring

    /// Loads every channel and checks what the node will act on: each latest voucher must carry
    /// the payer's EIP-712 signature over its stored fields (the store already checked it against
    /// the history). Any damage refuses the start with a message naming the channel
    /// (Specs/storage.md, "Checks at start"): a node must not serve a state it cannot prove.
    private func restore() throws {
        let records = try store.loadChannels()
        let marker = ChannelsMarker(directory: (markerPath as NSString).deletingLastPathComponent)
        try marker.checkAfterOpening(channels: records.count, store: store.path)
        var restored = 0
        for r in records {
            guard let bytes = try store.metadata(forKey: ChannelExtras.key(r.id)) else {
                throw Self.damaged(store.path, "channel \(r.id) has no stored terms (metadata \(ChannelExtras.key(r.id)))")
            }
            let snapshot: ChannelSnapshot
            do { snapshot = try ChannelPersistence.snapshot(r, try ChannelExtras.decode(bytes)) } catch {
                throw Self.damaged(store.path, "channel \(r.id): \(error)")
            }
            if let v = snapshot.latestVoucher {
                do { try v.verify(expectedSigner: snapshot.terms.payer, domain: snapshot.terms.domain) } catch {
                    throw Self.damaged(store.path, "channel \(r.id): the stored latest voucher (nonce \(v.nonce), amount \(v.amount)) "
                                       + "is not signed by the payer \(snapshot.terms.payer)")
                }
            }
            persisted[r.id] = Persisted(cold: ColdKey(snapshot), voucherNonce: r.latestVoucher?.nonce ?? 0)
            do {
                perform(try book.load(snapshot))
            } catch {
                throw Self.damaged(store.path, "channel \(r.id): \(error)")
            }
            restored += 1
        }
        try restoreAssets(channels: records)
        try restoreHTLCs()
        markerWritten = !records.isEmpty
        if markerWritten { try marker.write() }
        if let bytes = try store.metadata(forKey: PolicyRecord.metadataKey), let p = try? PolicyRecord.decode(bytes) { book.setPolicy(p) }
        book.rebuildGuards()
        peerEvents = peers.linkEvents()
        logger.info("payments ready", metadata: ["channels": "\(restored)", "store": "\(store.path)"])
    }

    /// The asset registry's uses in the store: ledger entries in order, then channels by opening
    /// time (Specs/README.md, "Money"). A conflicting use written before the registry existed is
    /// kept as it is and logged; new uses of the id follow the first one.
    private func restoreAssets(channels: [ChannelRecord]) throws {
        let byOpening = channels.sorted {
            $0.openedAtMillis != $1.openedAtMillis ? $0.openedAtMillis < $1.openedAtMillis : $0.id.bytes.lexicographicallyPrecedes($1.id.bytes)
        }
        let uses = try ledger.books.assetsByFirstUse() + byOpening.map(\.asset)
        for asset in uses where !book.learnAsset(asset) {
            logger.warning("stored data uses an asset with other decimals than the registry", metadata: [
                "asset": "\(asset.id)", "decimals": "\(asset.decimals)", "registered": "\(book.assets.decimals(of: asset.id).map { "\($0)" } ?? "-")"])
        }
    }

    static func damaged(_ path: String, _ what: String) -> NodeError {
        .configuration("the channel store \(path) is damaged: \(what). Refusing to start; restore the file from a backup")
    }

    /// After a channel row became durable: make sure the marker says this node has channels.
    func channelStored() {
        guard !markerWritten else { return }
        do {
            try ChannelsMarker(directory: (markerPath as NSString).deletingLastPathComponent).write()
            markerWritten = true
        } catch {
            logger.error("cannot write the channels marker", metadata: ["path": "\(markerPath)", "error": "\(error)"])
        }
    }

    /// After start: continue closes cut short by a stop or a crash (Specs/channels.md §6.4): a
    /// payout requested but not confirmed is asked for again (the ledger applies one per channel,
    /// so one already applied is confirmed and the channel becomes SETTLED), a due payout is
    /// requested, challenge deadlines and the retry of an unanswered proposal are scheduled.
    func resumeCloses() { perform(book.resume(now: now())) }

    var payers: [ChannelID: PayerChannel] { book.payers }
    var payees: [ChannelID: PayeeChannel] { book.payees }

    func snapshot(_ id: ChannelID) -> ChannelSnapshot? { book.snapshot(id) }

    func peerOf(_ id: ChannelID) -> EthereumAddress? { book.peerOf(id) }

    // MARK: Streams

    /// A stream the peer opened (PeerManager's stream handler). Returns at once.
    func adopt(_ stream: any PeerStream, from peer: EthereumAddress) {
        guard PaymentsProtocol.versions.contains(where: { $0.id == stream.protocolID }), !stopped else { return stream.reset() }
        let link = PaymentLink(id: nextLinkID, peer: peer, stream: stream, metrics: metrics)
        nextLinkID += 1
        // The newest stream the peer opened becomes the one we write to: a peer that restarted (or
        // reconnected before we noticed its old connection die) opens a new one, and the old one
        // may be dead without our knowing yet. Both sides then resend their latest state (§8).
        let replaced = links[peer] != nil
        links[peer] = link
        allLinks[peer, default: [:]][link.id] = link
        startReading(link)
        flushPending(peer)
        if replaced { reestablish(with: peer) }
    }

    private func startReading(_ link: PaymentLink) {
        spawn {
            let peers = self.peers, peer = link.peer
            await link.readLoop(precheck: self.precheck, { messages, verdicts in await self.received(messages, on: link, verdicts: verdicts) }) { frames, malformed, error, replies in
                peers.countMessages(peer, in: UInt64(frames), out: UInt64(replies))
                if malformed > 0 {
                    await peers.reportMisbehaviour(peer, count: malformed, reason: "malformed payments message: \(error ?? "?")")
                }
            }
            await self.linkClosed(link)
        }
    }

    func linkClosed(_ link: PaymentLink) {
        allLinks[link.peer]?[link.id] = nil
        guard links[link.peer]?.id == link.id else { return }
        // Fall back to the newest other stream still open, if any.
        links[link.peer] = allLinks[link.peer]?.values.max { $0.id < $1.id }
        wakeWaiters(peer: link.peer)
        logger.debug("payment stream closed", metadata: ["peer": "\(link.peer)", "fallback": "\(links[link.peer] != nil)"])
    }

    /// Opens a stream to `peer` if there is none and the peer is connected; queued messages follow.
    func ensureLink(_ peer: EthereumAddress) {
        guard links[peer] == nil, !opening.contains(peer), !stopped else { return }
        opening.insert(peer)
        let peers = self.peers
        spawn {
            var stream: (any PeerStream)?
            if let connection = await peers.connection(to: peer) {
                stream = try? await connection.openStream(PaymentsProtocol.id(forPeerFeatures: connection.peer.features))
            }
            await self.opened(stream, to: peer)
        }
    }

    private func opened(_ stream: (any PeerStream)?, to peer: EthereumAddress) {
        opening.remove(peer)
        defer { wakeWaiters(peer: peer) }
        guard let stream else {
            pendingSends[peer] = nil // re-establishment resends the latest state when the peer is back
            return
        }
        if stopped { return stream.reset() }
        let link = PaymentLink(id: nextLinkID, peer: peer, stream: stream, metrics: metrics)
        nextLinkID += 1
        if links[peer] == nil { links[peer] = link }
        allLinks[peer, default: [:]][link.id] = link
        startReading(link)
        flushPending(peer)
    }

    private func flushPending(_ peer: EthereumAddress) {
        guard let queued = pendingSends.removeValue(forKey: peer), !queued.isEmpty else { return }
        write(queued, to: peer)
    }

    /// Encodes `messages` into one buffer and writes it (one flush); without a stream they wait
    /// for one. On a `/paymesh/payments/2` stream, runs of accepted acks go out coalesced.
    func write(_ messages: [Message], to peer: EthereumAddress) {
        guard let link = links[peer] else {
            pendingSends[peer, default: []].append(contentsOf: messages)
            ensureLink(peer)
            return
        }
        let messages = link.coalescesAcks ? PaymentAck.coalesced(messages) : messages
        var buffer = ByteBufferAllocator().buffer(capacity: messages.count * 192)
        var written: UInt64 = 0
        for m in messages {
            do {
                try writer.write(m, into: &buffer)
                written += 1
            } catch {
                logger.error("cannot encode message", metadata: ["type": "\(m.type.name)", "error": "\(error)"])
            }
        }
        link.write(buffer, messages: Int(written))
        peers.countMessages(peer, out: written)
    }

    // MARK: Peers coming and going

    func peerChanged(_ peer: EthereumAddress, up: Bool) {
        if !up {
            links[peer] = nil
            for link in (allLinks.removeValue(forKey: peer) ?? [:]).values { link.stream.reset() }
            pendingSends[peer] = nil
            wakeWaiters(peer: peer)
            return
        }
        reestablish(with: peer)
        resumeHTLCs(with: peer)
    }

    /// Specs/channels.md §8: both sides send their latest state.
    func reestablish(with peer: EthereumAddress) {
        let actions = book.onPeerUp(peer, now: now())
        if !actions.isEmpty { ensureLink(peer) }
        perform(actions)
    }

    // MARK: Receiving

    /// Every message of one received chunk, in order; one outbox step for all of them. A coalesced
    /// PAYMENT_ACK is applied as its acknowledgements, one after the other (Specs/messages.md §4.4.1).
    func received(_ messages: [Message], on link: PaymentLink, verdicts: VoucherVerdicts = VoucherVerdicts()) {
        let messages = PaymentAck.expanded(messages)
        guard htlcs.channels.isEmpty ? messages.contains(where: isHTLCMessage) : true else {
            return receivedByChannels(messages, from: link.peer, verdicts: verdicts)
        }
        // Runs of channel messages go to the channel book, HTLC messages one by one to the HTLC book,
        // in the order received (each becomes an outbox step, released in order).
        var run: [Message] = []
        for m in messages {
            guard isHTLCMessage(m) else { run.append(m); continue }
            if !run.isEmpty { receivedByChannels(run, from: link.peer, verdicts: verdicts) }
            run = []
            receivedHTLC(m, from: link.peer)
        }
        if !run.isEmpty { receivedByChannels(run, from: link.peer, verdicts: verdicts) }
    }

    private func receivedByChannels(_ messages: [Message], from peer: EthereumAddress, verdicts: VoucherVerdicts) {
        var balances: [String: UInt128] = [:]
        for asset in ChannelBook.openAssets(messages) {
            balances[asset] = try? ledger.books.balance(owner: me, assetID: asset).atomicUnits
        }
        perform(book.onReceived(messages, from: peer, now: now(), balances: balances, verdicts: verdicts))
        teachPrecheck(messages, verdicts)
    }

    /// The payee channels of vouchers and opens of `messages` that were not prechecked: the
    /// precheck learns their terms, so the next vouchers of those channels are checked before the turn.
    private func teachPrecheck(_ messages: [Message], _ verdicts: VoucherVerdicts) {
        var seen: Set<ChannelID> = []
        for m in messages {
            let id: ChannelID
            switch m {
            case .paymentUpdate(let v) where !verdicts.checked(v.channelID): id = v.channelID
            case .paymentOpen(let o): id = o.channelID
            default: continue
            }
            guard seen.insert(id).inserted, let p = payees[id], p.state != .settled else { continue }
            precheck.learn(p.terms)
        }
    }

    /// Gives `peer` a reserved slot in the peer table (newcomers are evicted before it when the
    /// table is full). Peers get it by having a channel with us: as payee of one we opened, or as
    /// payer of one our open policy accepted.
    func protectPeer(_ peer: EthereumAddress) {
        let peers = self.peers
        Task { await peers.protect(peer) }
    }
}
