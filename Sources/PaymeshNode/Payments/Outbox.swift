import Foundation
import Logging
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshStore
import Synchronization

/// What one actor turn produced: the writes to make durable and, after them, the effects.
struct StepBuilder {
    enum Effect {
        case send(EthereumAddress, Message)
        case notify(ChannelNotification)
        case settle(ChannelID, SettlementRequest)
        case timer(ChannelID, deadline: UInt64)
        /// An HTLC book event (Specs/channels.md §12.4).
        case htlc(HTLCEvent)
        /// A channel's HTLC state was written.
        case htlcStored(ChannelID)
        /// Origin outcomes of HTLCs were written (`route_outcomes`).
        case routeOutcomes
        /// A voucher presented over HTTP is durable: resume the gateway's request `token`.
        case httpPaid(token: UInt64)
        /// A parked HTLC is durable: wait for its next channel (Specs/channels.md §12.10).
        case awaitTakeOver(ChannelID, incoming: HTLCRef)
    }

    enum ColdWrite {
        /// The row and its encoded `ChannelExtras`, in one store request.
        case insert(ChannelRecord, [UInt8])
        case update(ChannelID, [UInt8], ChannelStatus, Amount, ChannelCloseInfo?)
        case receipt(ReceiptRecord)
        /// A channel's HTLC state (Specs/storage.md "HTLCs"), replacing what the store held.
        case htlc(StoredHTLCChannel)
        /// What should have been written did not encode: the step fails like a failed write.
        case unencodable(String)
    }

    /// Per channel, the vouchers to append (one store request per channel: one group commit).
    var vouchers: [ChannelID: [StoredVoucher]] = [:]
    /// Other writes, in order; per channel they are applied one after the other.
    var cold: [(ChannelID, ColdWrite)] = []
    var effects: [Effect] = []
    /// Notifications of action lists that wrote nothing: performed at once (acks seen by the payer).
    var immediate: [ChannelNotification] = []
    /// Channels whose state this step writes: reloaded from the store if a write fails.
    var channels: Set<ChannelID> = []

    var isEmpty: Bool { vouchers.isEmpty && cold.isEmpty && effects.isEmpty && immediate.isEmpty }
    var writeCount: Int { (vouchers.isEmpty ? 0 : 1) + cold.count }

    /// Appends a send. An accepted PAYMENT_ACK replaces the previous accepted ack of the same channel
    /// when only notifications lie between them: acknowledging nonce n acknowledges every voucher
    /// ≤ n (Specs/channels.md §4.3), so the payee answers a burst of vouchers with one ack.
    mutating func send(_ m: Message, to peer: EthereumAddress) {
        if case .paymentAck(let ack) = m, ack.status == .accepted {
            var i = effects.count - 1
            while i >= 0, case .notify = effects[i] { i -= 1 }
            if i >= 0, case .send(let p, .paymentAck(let previous)) = effects[i], p == peer, previous.status == .accepted,
               previous.channelID == ack.channelID, previous.nonce < ack.nonce {
                effects.remove(at: i)
            }
        }
        effects.append(.send(peer, m))
    }

    mutating func sendNow(_ messages: [Message], to peer: EthereumAddress) {
        for m in messages { effects.append(.send(peer, m)) }
    }
}

/// How many voucher requests are on their way to the store in `voucherChain` tasks (not yet
/// enqueued). A link decrements it right after its request is enqueued, so zero means every earlier
/// request is in the store's queue and a new one may be enqueued directly behind them.
final class ChainLinks: Sendable {
    private let count = Atomic<Int>(0)
    var isEmpty: Bool { count.load(ordering: .sequentiallyConsistent) == 0 }
    func add() { count.add(1, ordering: .sequentiallyConsistent) }
    func remove() { count.subtract(1, ordering: .sequentiallyConsistent) }
}

/// Steps waiting for their writes, released strictly in the order they were enqueued.
struct Outbox {
    struct Step {
        var outstanding: Int
        /// Why a write of the step failed (nil: all durable so far).
        var failure: String?
        var effects: [StepBuilder.Effect]
        var channels: Set<ChannelID>

        var failed: Bool { failure != nil }
    }

    private var steps: [UInt64: Step] = [:]
    private var head: UInt64 = 0
    private var next: UInt64 = 0

    var pending: Int { steps.count }

    mutating func append(effects: [StepBuilder.Effect], outstanding: Int, channels: Set<ChannelID>) -> UInt64 {
        defer { next += 1 }
        steps[next] = Step(outstanding: outstanding, failure: nil, effects: effects, channels: channels)
        return next
    }

    mutating func finished(_ id: UInt64, failure: String?) {
        steps[id]?.outstanding -= 1
        if let failure, steps[id]?.failure == nil { steps[id]?.failure = failure }
    }

    /// Whether a step still waiting writes `channel` (cold path only: a linear scan).
    func touches(_ channel: ChannelID) -> Bool { steps.values.contains { $0.channels.contains(channel) } }

    /// The head step once all its writes are done.
    mutating func popReady() -> Step? {
        guard let step = steps[head], step.outstanding <= 0 else { return nil }
        steps[head] = nil
        head += 1
        return step
    }
}

extension PaymentsService {
    /// Turns one machine's action list into writes and effects of `step`, in order.
    func stage(_ actions: [ChannelAction], channel: ChannelID?, peer: EthereumAddress, into step: inout StepBuilder) {
        let writes = actions.contains { if case .persist = $0 { true } else if case .recordReceipt = $0 { true } else { false } }
        for action in actions {
            switch action {
            case .persist(let s): stagePersist(s, into: &step)
            case .recordReceipt(let r):
                do { step.cold.append((r.channelID, .receipt(try Self.receiptRecord(r)))) } catch {
                    step.cold.append((r.channelID, .unencodable("\(error)")))
                }
                step.channels.insert(r.channelID)
            case .send(let m): step.send(m, to: peer)
            case .settle(let r): step.effects.append(.settle(r.channelID, r))
            case .scheduleTimer(let deadline): if let channel { step.effects.append(.timer(channel, deadline: deadline)) }
            case .notify(let n): if writes { step.effects.append(.notify(n)) } else { step.immediate.append(n) }
            }
        }
    }

    /// Vouchers go to the per-channel batch; anything else that changed is a cold write.
    private func stagePersist(_ s: ChannelSnapshot, into step: inout StepBuilder) {
        let id = s.channelID
        step.channels.insert(id)
        let cold = ColdKey(s)
        guard var known = persisted[id] else {
            do { step.cold.append((id, .insert(ChannelPersistence.record(s), try ChannelExtras(s).encoded()))) } catch {
                step.cold.append((id, .unencodable("\(error)")))
            }
            persisted[id] = Persisted(cold: cold, voucherNonce: s.latestVoucher?.nonce ?? 0)
            return
        }
        if let v = s.latestVoucher, v.nonce > known.voucherNonce {
            step.vouchers[id, default: []].append(ChannelPersistence.stored(v))
            known.voucherNonce = v.nonce
        }
        if cold != known.cold { // rare: build the extras only then
            do {
                step.cold.append((id, .update(id, try ChannelExtras(s).encoded(), ChannelPersistence.status(s.state),
                                              Amount(s.lockedAmount), ChannelPersistence.closeInfo(s))))
            } catch {
                step.cold.append((id, .unencodable("\(error)")))
            }
            known.cold = cold
        }
        persisted[id] = known
    }

    /// A receipt that does not encode is an error (it used to be stored as "{}").
    static func receiptRecord(_ r: Receipt) throws(PersistenceError) -> ReceiptRecord {
        let json: String
        do { json = String(decoding: try JSONEncoder().encode(r), as: UTF8.self) } catch {
            throw PersistenceError("receipt \(r.seq) of channel \(r.channelID) does not encode: \(error)")
        }
        guard let hash = try? Hash32(r.hash), let prev = try? Hash32(r.prevHash) else {
            preconditionFailure("receipt hashes are 32 bytes")
        }
        return ReceiptRecord(channel: r.channelID, seq: r.seq, hash: hash, prevHash: r.seq == 1 ? nil : prev, json: json,
                             signature: r.signature)
    }

    /// One machine call outside a turn that already has a step.
    func perform(_ actions: [ChannelAction], channel: ChannelID, peer: EthereumAddress) {
        var step = StepBuilder()
        stage(actions, channel: channel, peer: peer, into: &step)
        enqueue(step)
    }

    /// Performs what the channel book decided, in order: its channels' actions become one outbox
    /// step (writes first, effects once they are durable); the rest is done at once.
    func perform(_ actions: [BookAction]) {
        var step = StepBuilder()
        for action in actions {
            switch action {
            case .channel(let id, let peer, let list): stage(list, channel: id, peer: peer, into: &step)
            case .sendNow(let messages, let peer): step.sendNow(messages, to: peer)
            case .protectPeer(let peer): protectPeer(peer)
            case .negotiation(let m, let peer):
                if let refusal = deliverNegotiation(m, from: peer) { step.sendNow([.error(refusal)], to: peer) }
            case .misbehaved(let peer, let count, let reason): reportMisbehaviour(by: peer, count: count, reason: reason)
            case .log(let level, let message, let metadata):
                logger.log(level: level, "\(message)", metadata: metadata.mapValues { .string($0) })
            }
        }
        enqueue(step)
    }

    /// Starts the step's writes and queues its effects behind them.
    func enqueue(_ step: StepBuilder) {
        for n in step.immediate { handle(n) }
        guard step.writeCount > 0 || !step.effects.isEmpty else { return }
        let id = outbox.append(effects: step.effects, outstanding: step.writeCount, channels: step.channels)
        LatencyTrace.mark("enqueue step=\(id) writes=\(step.writeCount) vouchers=\(step.vouchers.count) cold=\(step.cold.count) effects=\(step.effects.count)")
        let store = self.store, ledger = self.ledger, logger = self.logger
        if !step.vouchers.isEmpty {
            // Every voucher of the step in one guarded request (one savepoint of one group commit),
            // after any pending row insert of its channels. The requests are enqueued in step order,
            // so the store's guard (nonce above the stored latest) sees each channel's batches in order.
            let vouchers = step.vouchers.values.flatMap { $0 }
            let jobs = jobContinuation
            let completion: @Sendable (Result<Void, StoreError>) -> Void = { result in
                var failure: String?
                if case .failure(let error) = result {
                    failure = "\(error)"
                    logger.error("voucher write failed", metadata: ["vouchers": "\(vouchers.count)", "error": "\(error)"])
                }
                jobs.yield(.written(step: id, failure: failure))
            }
            if chainLinks.isEmpty, step.vouchers.keys.allSatisfy({ coldPending[$0] == nil }) {
                // Nothing enqueued before it is still on its way: enqueue now, from this turn.
                store.enqueueVouchers(vouchers, completion: completion)
            } else {
                // Behind an earlier link not yet enqueued, or a cold write of its channels not yet
                // durable: the link waits for them (to be enqueued, resp. durable), then enqueues.
                let before = step.vouchers.keys.compactMap { coldPending[$0] == nil ? nil : coldTail[$0] }
                let previous = voucherChain, links = chainLinks
                links.add()
                voucherChain = Task {
                    await previous?.value
                    for t in before { _ = await t.value }
                    store.enqueueVouchers(vouchers, completion: completion)
                    links.remove()
                }
            }
        }
        // HTLC states of channels with no earlier write on its way: enqueued now, from this turn, all
        // together, so the HTLC writes of one step (a forward's incoming and outgoing channels) share
        // one commit instead of two in a row.
        // (Only channels all of whose writes in this step are HTLC states, so none of them can be
        // enqueued by a task before the batch.)
        var mixed: Set<ChannelID> = []
        for (channel, write) in step.cold { if case .htlc = write {} else { mixed.insert(channel) } }
        var direct: [StoredHTLCChannel] = []
        for (channel, write) in step.cold {
            if case .htlc(let c) = write, coldPending[channel] == nil, !mixed.contains(channel) {
                direct.append(c)
                continue
            }
            let before = coldTail[channel]
            let task = Task<String?, Never> {
                _ = await before?.value
                return await Self.apply(write, store: store, ledger: ledger, logger: logger)
            }
            coldTail[channel] = task
            coldPending[channel, default: 0] += 1
            spawn {
                let failure = await task.value
                if failure == nil, case .insert = write { await self.channelStored() }
                await self.coldWriteFinished(id, channel: channel, failure: failure)
            }
        }
        if !direct.isEmpty {
            let jobs = jobContinuation
            store.enqueueHTLCs(direct) { result in
                var failure: String?
                if case .failure(let error) = result {
                    failure = "\(error)"
                    logger.error("store write failed", metadata: ["error": "\(error)"])
                }
                jobs.yield(.written(step: id, failure: failure))
            }
        }
        if step.writeCount == 0 { releaseReady() }
    }

    /// nil when durable, else why it failed.
    private static func apply(_ write: StepBuilder.ColdWrite, store: ChannelStore, ledger: NodeLedger, logger: Logger) async -> String? {
        do {
            switch write {
            case .insert(let record, let extras):
                try await store.saveChannel(record, metadata: extras, forKey: ChannelExtras.key(record.id))
            case .update(let id, let extras, let status, let locked, let close):
                try await store.updateState(channel: id, status: status, lockedAmount: locked, closeInfo: close,
                                            metadata: extras, forKey: ChannelExtras.key(id))
            case .receipt(let r):
                try await store.appendReceipt(r)
            case .htlc(let c):
                try await store.saveHTLCs(c)
            case .unencodable(let why):
                throw PersistenceError(why)
            }
            return nil
        } catch {
            logger.error("store write failed", metadata: ["error": "\(error)"])
            return "\(error)"
        }
    }

    func writeFinished(_ id: UInt64, failure: String?) {
        LatencyTrace.mark("written step=\(id)")
        outbox.finished(id, failure: failure)
        releaseReady()
    }

    private func coldWriteFinished(_ id: UInt64, channel: ChannelID, failure: String?) {
        if let n = coldPending[channel], n > 1 { coldPending[channel] = n - 1 } else { coldPending[channel] = nil }
        writeFinished(id, failure: failure)
    }

    /// Performs the effects of every leading step whose writes are durable; one write per peer.
    func releaseReady() {
        var out: [EthereumAddress: [Message]] = [:]
        var order: [EthereumAddress] = []
        while let step = outbox.popReady() {
            defer { reloadIfNeeded(step) }
            if let failure = step.failure {
                // Nothing of this step is announced. An acknowledgement we owed becomes a refusal
                // the sender may retry (1502, Specs/errors.md); our own payments stop with it.
                logger.error("a write failed: the messages that depended on it are not sent",
                             metadata: ["effects": "\(step.effects.count)", "error": "\(failure)"])
                if case .stopped(let why) = store.health {
                    logger.critical("the channel store stopped: nothing will be acknowledged until the node is restarted",
                                    metadata: ["store": "\(store.path)", "error": "\(why)"])
                }
                for effect in step.effects {
                    guard case .send(let peer, .paymentAck(let ack)) = effect, ack.status == .accepted,
                          let refusal = try? PaymentAck(channelID: ack.channelID, nonce: ack.nonce, status: .rejected,
                                                        reason: Self.truncatedReason("storage failed: \(failure)"),
                                                        errorCode: .internalError) else { continue }
                    if out[peer] == nil { order.append(peer) }
                    out[peer, default: []].append(.paymentAck(refusal))
                }
                for case .httpPaid(let token) in step.effects { httpPaymentDurable(token, failure: failure) }
                for id in step.channels where payers[id] != nil {
                    outcomes.rejections[id] = Rejection(nonce: payers[id]!.latestVoucher?.nonce ?? 0, code: .internalError,
                                               reason: "storage failed: \(failure)")
                    wakeWaiters(channel: id)
                }
                continue
            }
            for effect in step.effects {
                switch effect {
                case .send(let peer, let m):
                    if out[peer] == nil { order.append(peer) }
                    out[peer, default: []].append(m)
                case .notify(let n): handle(n)
                case .settle(let channel, let r): startSettlement(r, channel: channel)
                case .timer(let channel, let deadline): scheduleTimer(channel, deadline: deadline)
                case .htlc(let e): handle(e)
                case .htlcStored(let id): htlcStored(id)
                case .routeOutcomes: routeOutcomesStored()
                case .httpPaid(let token): httpPaymentDurable(token, failure: nil)
                case .awaitTakeOver(let next, let incoming): spawn { await self.forwardWhenAcknowledged(incoming, over: next) }
                }
            }
        }
        for peer in order { LatencyTrace.mark("send \(out[peer]!.map { "\($0.type)" })"); write(out[peer]!, to: peer) }
    }

    // MARK: After a failed write

    /// A step whose write failed leaves its channels as the store has them: each is reloaded from
    /// the store when the step is released, and again as every later step that was staged on the
    /// failed state is released (their writes may still have landed), until none is left.
    private func reloadIfNeeded(_ step: Outbox.Step) {
        if step.failed { needsReload.formUnion(step.channels) }
        for id in step.channels where needsReload.contains(id) {
            reloadChannel(id)
            if !outbox.touches(id) { needsReload.remove(id) }
        }
    }

    static func truncatedReason(_ text: String) -> String {
        var t = text
        while t.utf8.count > MessageLimits.reasonBytes.upperBound { t.removeLast() }
        return t
    }

    /// Replaces a channel's machine by what the store holds (the durable state).
    func reloadChannel(_ id: ChannelID) {
        do {
            guard let r = try store.channel(id), let bytes = try store.metadata(forKey: ChannelExtras.key(id)) else {
                // The channel never became durable: it does not exist.
                logger.notice("channel dropped: its opening was never stored", metadata: ["channel": "\(id)"])
                book.drop(id)
                precheck.forget(id)
                persisted[id] = nil
                wakeWaiters(channel: id)
                return
            }
            let snapshot = try ChannelPersistence.snapshot(r, try ChannelExtras.decode(bytes))
            persisted[id] = Persisted(cold: ColdKey(snapshot), voucherNonce: r.latestVoucher?.nonce ?? 0)
            perform(try book.load(snapshot))
            if snapshot.role == .payer { book.rebuildGuards() }
            wakeWaiters(channel: id)
            logger.notice("channel reloaded from the store after a failed write",
                          metadata: ["channel": "\(id)", "nonce": "\(r.latestVoucher?.nonce ?? 0)"])
        } catch {
            logger.error("cannot reload channel from the store", metadata: ["channel": "\(id)", "error": "\(error)"])
        }
    }

    // MARK: Settlement and timers

    func startSettlement(_ request: SettlementRequest, channel: ChannelID) {
        guard let s = snapshot(channel) else { return }
        // Defence in depth (Specs/channels.md §6.5): never pay out above the highest payer
        // signature this node holds for the channel, whatever the machine or the store says.
        if case .payout(let p) = request, p.payeeAmount > s.payerSignedAmount {
            logger.error("payout refused: above what the payer signed",
                         metadata: ["channel": "\(channel)", "payout": "\(p.payeeAmount)", "signed": "\(s.payerSignedAmount)"])
            let refused: [SettlementEvent] = [.failed(nil, channel, .payout, reason: "payout above the payer's latest signature")]
            return spawn { await self.settlementDone(channel, refused) }
        }
        let asset = s.terms.asset, ledger = self.ledger, side = s.role
        logger.info("settlement requested", metadata: ["channel": "\(channel)", "kind": "\(request.kind.rawValue)"])
        spawn {
            let events = await ledger.submit(request, asset: asset, side: side, now: self.now())
            await self.settlementDone(channel, events)
        }
    }

    private func settlementDone(_ id: ChannelID, _ events: [SettlementEvent]) {
        perform(book.onSettlement(id, events, now: now()))
    }

    /// A channel machine's `.scheduleTimer` (wall-clock milliseconds) joins the deadline queue.
    func scheduleTimer(_ id: ChannelID, deadline: UInt64) {
        schedule(.channelTimer(id), at: clock.instant(atUnixMillis: deadline))
    }

    func timerFired(_ id: ChannelID) { perform(book.onTimer(id, now: now())) }
}
