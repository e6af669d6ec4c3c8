import Foundation
public import Logging
import NIOCore
public import PaymeshChannels
public import PaymeshCrypto
public import PaymeshMessages
import PaymeshStore
import PaymeshTransport

/// The payments layer of a node: channel machines (`PayerChannel`, `PayeeChannel`) driven over one
/// `/paymesh/payments/1` stream per peer, with their state in the node's `ChannelStore`.
///
/// The machines are pure; this actor performs their actions in order (Specs/channels.md §1):
/// writes (`.persist`, `.recordReceipt`) are started at once and every later action of the same
/// list (`.send`, `.settle`, …) waits until they are durable. Pipelining comes from batching, not
/// from relaxing that rule: everything one actor turn produces (up to `signBatch` vouchers signed by
/// `pay`, or every message of a received chunk) becomes one `OutboxStep`, whose vouchers are one
/// store request per channel and so share one group commit; steps are released strictly in order.
public actor PaymentsService {
    let key: IdentityKey
    let me: Address
    let store: ChannelStore
    let ledger: NodeLedger
    let peers: PeerManager
    let events: EventHub
    let logger: Logger
    let configuration: PaymentsConfiguration
    let clock: any NodeClock
    let random: NodeRandom

    var payers: [ChannelID: PayerChannel] = [:]
    var payees: [ChannelID: PayeeChannel] = [:]
    /// The payee channels of each payer that may not be SETTLED yet (pruned when counted).
    var payeesByPayer: [Address: Set<ChannelID>] = [:]
    /// Peers with a channel, given reserved peer slots (issue 7 item 8). Only grows until the next
    /// start: a settled channel's peer keeps its slot until then.
    var protectedPeers: Set<Address> = []
    /// What the store holds for each channel (to write only what changed).
    var persisted: [ChannelID: Persisted] = [:]
    /// The stream we write to, per peer; `allLinks` also holds the others we read from.
    var links: [Address: PaymentLink] = [:]
    var allLinks: [Address: [UInt64: PaymentLink]] = [:]
    var opening: Set<Address> = []
    /// Messages waiting for a stream to their peer.
    var pendingSends: [Address: [Message]] = [:]
    var nextLinkID: UInt64 = 1
    var policy: SpendingPolicy = .unlimited
    /// One guard per asset id (Specs/channels.md §9).
    var guards: [String: SpendingGuard] = [:]
    var outbox = Outbox()
    /// Per channel, the last non-voucher write: the next one waits for it (keeps them in order).
    var coldTail: [ChannelID: Task<String?, Never>] = [:]
    /// The last guarded voucher request: done once it is enqueued in the store (keeps them in order).
    var voucherChain: Task<Void, Never>?
    /// Channels to reload from the store after a failed write (see `reloadIfNeeded`).
    var needsReload: Set<ChannelID> = []
    /// `<datadir>/channels.marker`: exists once this node has stored a channel.
    let markerPath: String
    var markerWritten = false
    var trackers: [ChannelID: [LatencyTracker]] = [:]
    var rejections: [ChannelID: Rejection] = [:]
    var openFailures: [ChannelID: Rejection] = [:]
    var closeFailures: [ChannelID: Rejection] = [:]
    var sessions: [String: StreamEntry] = [:]
    var nextSession: UInt64 = 1
    var writer = PaymentStreamCodec()
    var peerEvents: PeerLinkEvents?
    let jobs: AsyncStream<@Sendable () async -> Void>
    let jobContinuation: AsyncStream<@Sendable () async -> Void>.Continuation
    var stopped = false

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

    init(key: IdentityKey, store: ChannelStore, peers: PeerManager, events: EventHub, configuration: PaymentsConfiguration,
         logger: Logger, markerPath: String, clock: any NodeClock, random: NodeRandom) {
        self.key = key
        self.clock = clock
        self.random = random
        self.markerPath = markerPath
        me = Address(key.address)
        self.store = store
        ledger = NodeLedger(store: store)
        self.peers = peers
        self.events = events
        self.configuration = configuration
        self.logger = logger
        (jobs, jobContinuation) = AsyncStream.makeStream()
    }

    /// Opens `<directory>/channels.sqlite`, restores every channel, registers the console methods
    /// and the inbound stream handler. Channels re-establish when their peer connects.
    public static func start(directory: String, key: IdentityKey, peers: PeerManager, events: EventHub,
                             registry: ConsoleRegistry, configuration: PaymentsConfiguration,
                             logger: Logger, clock: any NodeClock = SystemClock(),
                             random: NodeRandom = .system()) async throws -> PaymentsService {
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
        let service = PaymentsService(key: key, store: store, peers: peers, events: events, configuration: configuration,
                                      logger: logger, markerPath: marker.path, clock: clock, random: random)
        do {
            try await service.restore()
        } catch {
            await store.close()
            throw error
        }
        await service.resumeCloses()
        registry.registerPaymentMethods(service)
        do {
            try peers.router.register(PaymentsProtocol.id, feature: PaymentsProtocol.feature) { stream, peer in
                await service.adopt(stream, from: Address(peer))
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
                    for await e in peerEvents { await self.peerChanged(Address(e.peer), up: e.isUp) }
                }
            }
            for await job in jobs { group.addTask { await job() } }
            group.cancelAll()
        }
    }

    /// Stops the payment streams, lets queued writes finish, closes the store.
    public func shutdown() async {
        guard !stopped else { return }
        stopped = true
        for link in links.values { link.stream.close() }
        for (_, session) in sessions { session.ticker?.cancel() }
        let tails = Array(coldTail.values)
        for t in tails { _ = await t.value }
        await voucherChain?.value
        await store.close()
        jobContinuation.finish()
    }

    func spawn(_ job: @escaping @Sendable () async -> Void) { jobContinuation.yield(job) }

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
                switch snapshot.role {
                case .payer: payers[r.id] = try PayerChannel(restoring: snapshot, key: key)
                case .payee:
                    payees[r.id] = try PayeeChannel(restoring: snapshot, key: key)
                    payeesByPayer[snapshot.terms.payer, default: []].insert(r.id)
                }
                if snapshot.state != .settled {
                    protectPeer(snapshot.role == .payer ? snapshot.terms.payee : snapshot.terms.payer)
                }
            } catch {
                throw Self.damaged(store.path, "channel \(r.id): \(error)")
            }
            restored += 1
        }
        markerWritten = !records.isEmpty
        if markerWritten { try marker.write() }
        if let bytes = try store.metadata(forKey: PolicyJSON.metadataKey), let p = try? PolicyJSON.decode(bytes) { policy = p }
        rebuildGuards()
        peerEvents = peers.linkEvents()
        logger.info("payments ready", metadata: ["channels": "\(restored)", "store": "\(store.path)"])
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

    /// Spending totals are the cumulative amounts of our payer channels' latest vouchers (durable):
    /// nothing else needs persisting for them. The rate window starts empty after a restart.
    func rebuildGuards() {
        var perAsset: [String: (perPeer: [Address: UInt128], total: UInt128)] = [:]
        for p in payers.values {
            let asset = p.terms.asset.id, paid = p.paidAmount
            perAsset[asset, default: ([:], 0)].perPeer[p.terms.payee, default: 0] += paid
            perAsset[asset, default: ([:], 0)].total += paid
        }
        guards = perAsset.mapValues { SpendingGuard(policy: policy, spentPerPeer: $0.perPeer, spentTotal: $0.total) }
    }

    /// After start: continue closes cut short by a stop or a crash (Specs/channels.md §6.4): a
    /// payout requested but not confirmed is asked for again (the ledger applies one per channel,
    /// so one already applied is confirmed and the channel becomes SETTLED), a due payout is
    /// requested, challenge deadlines and the retry of an unanswered proposal are scheduled.
    func resumeCloses() {
        let now = now()
        for id in Array(payers.keys) {
            let actions = payers[id]!.resume(now: now)
            if !actions.isEmpty { perform(actions, channel: id, peer: payers[id]!.terms.payee) }
        }
        for id in Array(payees.keys) {
            let actions = payees[id]!.resume(now: now)
            if !actions.isEmpty { perform(actions, channel: id, peer: payees[id]!.terms.payer) }
        }
    }

    func snapshot(_ id: ChannelID) -> ChannelSnapshot? { payers[id]?.snapshot ?? payees[id]?.snapshot }

    func peerOf(_ id: ChannelID) -> Address? { payers[id]?.terms.payee ?? payees[id]?.terms.payer }

    // MARK: Streams

    /// A stream the peer opened (PeerManager's stream handler). Returns at once.
    func adopt(_ stream: any PeerStream, from peer: Address) {
        guard stream.protocolID == PaymentsProtocol.id, !stopped else { return stream.reset() }
        let link = PaymentLink(id: nextLinkID, peer: peer, stream: stream)
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
            let peers = self.peers, peer = link.peer.ethereumAddress
            await link.readLoop({ messages in await self.received(messages, on: link) }) { frames, malformed, error, replies in
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
        logger.debug("payment stream closed", metadata: ["peer": "\(link.peer)", "fallback": "\(links[link.peer] != nil)"])
    }

    /// Opens a stream to `peer` if there is none and the peer is connected; queued messages follow.
    func ensureLink(_ peer: Address) {
        guard links[peer] == nil, !opening.contains(peer), !stopped else { return }
        opening.insert(peer)
        let peers = self.peers
        spawn {
            var stream: (any PeerStream)?
            if let connection = await peers.connection(to: peer.ethereumAddress) {
                stream = try? await connection.openStream(PaymentsProtocol.id)
            }
            await self.opened(stream, to: peer)
        }
    }

    private func opened(_ stream: (any PeerStream)?, to peer: Address) {
        opening.remove(peer)
        guard let stream else {
            pendingSends[peer] = nil // re-establishment resends the latest state when the peer is back
            return
        }
        if stopped { return stream.reset() }
        let link = PaymentLink(id: nextLinkID, peer: peer, stream: stream)
        nextLinkID += 1
        if links[peer] == nil { links[peer] = link }
        allLinks[peer, default: [:]][link.id] = link
        startReading(link)
        flushPending(peer)
    }

    private func flushPending(_ peer: Address) {
        guard let queued = pendingSends.removeValue(forKey: peer), !queued.isEmpty else { return }
        write(queued, to: peer)
    }

    /// Encodes `messages` into one buffer and writes it (one flush); without a stream they wait
    /// for one.
    func write(_ messages: [Message], to peer: Address) {
        guard let link = links[peer] else {
            pendingSends[peer, default: []].append(contentsOf: messages)
            ensureLink(peer)
            return
        }
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
        link.write(buffer)
        peers.countMessages(peer.ethereumAddress, out: written)
    }

    // MARK: Peers coming and going

    func peerChanged(_ peer: Address, up: Bool) {
        if !up {
            links[peer] = nil
            for link in (allLinks.removeValue(forKey: peer) ?? [:]).values { link.stream.reset() }
            pendingSends[peer] = nil
            return
        }
        reestablish(with: peer)
    }

    /// Specs/channels.md §8: both sides send their latest state.
    func reestablish(with peer: Address) {
        let now = now()
        var step = StepBuilder()
        var count = 0
        for id in payers.keys where payers[id]!.terms.payee == peer {
            stage(payers[id]!.reestablish(now: now), channel: id, peer: peer, into: &step)
            count += 1
        }
        for id in payees.keys where payees[id]!.terms.payer == peer {
            stage(payees[id]!.reestablish(now: now), channel: id, peer: peer, into: &step)
            count += 1
        }
        if count > 0 {
            logger.info("re-establishing channels", metadata: ["peer": "\(peer)", "channels": "\(count)"])
            ensureLink(peer)
        }
        enqueue(step)
    }

    // MARK: Receiving

    /// Every message of one received chunk, in order; one outbox step for all of them.
    func received(_ messages: [Message], on link: PaymentLink) {
        let now = now()
        let peer = link.peer
        var step = StepBuilder()
        var errors: [Message] = []
        var misbehaviour = Misbehaviour()
        defer { report(misbehaviour, by: peer) }
        for m in messages {
            guard let id = Self.channelID(of: m) else {
                switch m {
                case .error(let e):
                    logger.notice("peer reported an error", metadata: ["peer": "\(peer)", "code": "\(e.code)", "message": "\(e.message)"])
                case .negotiatePropose, .negotiateCounter, .negotiateAccept, .negotiateReject:
                    errors.append(.error(ErrorMessage(unchecked: .negotiationNotSupported, "this node does not negotiate", m)))
                default:
                    errors.append(.error(ErrorMessage(unchecked: .unsupportedMessage, "\(m.type.name) is not handled", m)))
                }
                continue
            }
            if payers[id] != nil {
                guard payers[id]!.terms.payee == peer else {
                    misbehaviour.note(.identityNotVerified, "not this channel's payee")
                    stage(Self.reject(m, .identityNotVerified, "not this channel's payee"), channel: nil, peer: peer, into: &step); continue
                }
                let actions = payers[id]!.receive(m, now: now)
                misbehaviour.scan(actions)
                stage(actions, channel: id, peer: peer, into: &step)
            } else if payees[id] != nil {
                guard payees[id]!.terms.payer == peer else {
                    misbehaviour.note(.identityNotVerified, "not this channel's payer")
                    stage(Self.reject(m, .identityNotVerified, "not this channel's payer"), channel: nil, peer: peer, into: &step); continue
                }
                let actions = payees[id]!.receive(m, now: now)
                misbehaviour.scan(actions)
                stage(actions, channel: id, peer: peer, into: &step)
                if case .paymentUpdate(let v) = m, let task = v.taskID, payees[id]!.latestVoucher == v {
                    step.noteReceipt(channel: id, taskID: task)
                }
            } else if case .paymentOpen(let open) = m {
                acceptOpen(open, from: peer, now: now, into: &step, misbehaviour: &misbehaviour)
            } else if case .paymentAck = m {
                continue // an answer about a channel we no longer know: nothing to do
            } else {
                stage(Self.reject(m, .channelNotFound, "no such channel"), channel: nil, peer: peer, into: &step)
            }
        }
        issueReceipts(&step, now: now)
        if !errors.isEmpty { step.sendNow(errors, to: peer) }
        enqueue(step)
    }

    /// Gives `peer` a reserved slot in the peer table (newcomers are evicted before it when the
    /// table is full). Peers get it by having a channel with us: as payee of one we opened, or as
    /// payer of one our open policy accepted.
    func protectPeer(_ peer: Address) {
        guard protectedPeers.insert(peer).inserted else { return }
        let peers = self.peers
        Task { await peers.protect(peer.ethereumAddress) }
    }

    private func acceptOpen(_ open: PaymentOpen, from peer: Address, now: UInt64, into step: inout StepBuilder,
                            misbehaviour: inout Misbehaviour) {
        let capacity = openCapacity(payer: peer, assetID: open.asset.id)
        switch PayeeChannel.accept(open, key: key, policy: configuration.openPolicy, authenticatedPeer: peer, backing: nil,
                                   capacity: capacity, now: now) {
        case .accepted(let channel, let actions):
            payees[open.channelID] = channel
            payeesByPayer[peer, default: []].insert(open.channelID)
            protectPeer(peer)
            logger.info("channel accepted", metadata: ["channel": "\(open.channelID)", "payer": "\(peer)",
                                                       "deposit": "\(open.totalDeposit)", "asset": "\(open.asset)"])
            // The payer's deposit is a term of the channel (its row), not money in our books.
            stage(actions, channel: open.channelID, peer: peer, into: &step)
        case .rejected(let error, let actions):
            misbehaviour.note(error.code, "\(error)")
            // A flood beyond the per-payer limit is answered, not logged or published open by open.
            let flood = error.code == .channelLimitExceeded
            logger.log(level: flood ? .debug : .notice, "channel refused",
                       metadata: ["channel": "\(open.channelID)", "payer": "\(peer)", "error": "\(error)"])
            stage(flood ? actions.filter { if case .notify = $0 { false } else { true } } : actions,
                  channel: open.channelID, peer: peer, into: &step)
        }
    }

    /// What the open checks need of the node's other channels (Specs/channels.md §3.2 steps 1b, 4).
    /// Counting prunes settled channels from the payer's index, so it costs what the payer has open.
    private func openCapacity(payer: Address, assetID: String) -> OpenCapacity {
        let live = (payeesByPayer[payer] ?? []).filter { payees[$0].map { $0.state != .settled } ?? false }
        payeesByPayer[payer] = live.isEmpty ? nil : live
        guard live.count < configuration.openPolicy.maxChannelsPerPeer else {
            return OpenCapacity(channelsWithPayer: live.count, committedInflow: nil) // refused before the sum matters
        }
        // Our balance plus every deposit we may still be paid in this asset, checked.
        var committed: UInt128? = (try? ledger.books.balance(owner: me, assetID: assetID).atomicUnits)
        for channel in payees.values where channel.state != .settled && channel.terms.asset.id == assetID {
            guard let sum = committed else { break }
            let (next, overflow) = sum.addingReportingOverflow(channel.terms.deposit)
            committed = overflow ? nil : next
        }
        return OpenCapacity(channelsWithPayer: live.count, committedInflow: committed)
    }

    /// The payee signs a receipt for the latest voucher of each task id seen in this step (the
    /// evidence of what was paid for which request, Specs/channels.md §10).
    private func issueReceipts(_ step: inout StepBuilder, now: UInt64) {
        for (id, task) in step.takeReceiptRequests() {
            guard payees[id] != nil else { continue }
            do {
                let (_, actions) = try payees[id]!.issueReceipt(taskID: task, now: now)
                stage(actions, channel: id, peer: payees[id]!.terms.payer, into: &step)
            } catch {
                logger.warning("receipt not issued", metadata: ["channel": "\(id)", "error": "\(error)"])
            }
        }
    }

    static func channelID(of m: Message) -> ChannelID? {
        switch m {
        case .paymentOpen(let x): x.channelID
        case .paymentUpdate(let x): x.channelID
        case .paymentClose(let x): x.channelID
        case .paymentAck(let x): x.channelID
        default: nil
        }
    }

    /// PAYMENT_ACK rejected for a message we cannot route.
    static func reject(_ m: Message, _ code: PaymeshErrorCode, _ reason: String) -> [ChannelAction] {
        guard let id = channelID(of: m) else { return [] }
        let nonce: UInt64
        switch m {
        case .paymentOpen(let x): nonce = x.nonce
        case .paymentUpdate(let x): nonce = x.nonce
        case .paymentClose(let x): nonce = x.finalNonce
        default: return []
        }
        guard let ack = try? PaymentAck(channelID: id, nonce: nonce, status: .rejected, reason: reason, errorCode: code) else { return [] }
        return [.send(.paymentAck(ack))]
    }
}

extension ErrorMessage {
    init(unchecked code: PaymeshErrorCode, _ text: String, _ about: Message) {
        // Codes and texts built here are in range; `try?` cannot fail.
        self = (try? ErrorMessage(code: code, message: text, refType: UInt64(about.type.rawValue)))!
    }
}
