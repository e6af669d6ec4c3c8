import Foundation
import Dispatch
import PaymeshCrypto
import PaymeshChannels
import PaymeshMessages

extension PaymentsService {

    static func nodeError(_ e: ChannelError) -> NodeError {
        var text = e.detail
        if let limit = e.policyLimit { text += " (spending policy: \(limit.rawValue))" }
        return .paymesh(e.code, text)
    }

    static func notActive(_ id: ChannelID, _ state: ChannelState) -> NodeError {
        .paymesh(.channelNotActive, "channel \(id) is \(state)")
    }

    public static func channelNotFound(_ id: ChannelID) -> NodeError {
        .paymesh(.channelNotFound, "no channel \(id) on this node")
    }

    /// Signs, persists (batched) and sends `count` vouchers, pipelined: it never waits for the
    /// acknowledgement of one voucher before signing the next, only for the window
    /// (`maxUnacknowledged`) and, at the end, for the last acknowledgement. A refusal of the first
    /// payment (policy, balance, state) throws its Paymesh code with nothing signed.
    public func pay(_ r: PayRequest) async throws(NodeError) -> PayOutcome {
        guard r.count >= 1, !r.channels.isEmpty, r.amount > 0 else { throw .invalidParams("count ≥ 1, channels and a positive amount are needed") }
        for id in r.channels {
            guard let p = payers[id] else {
                if payees[id] != nil { throw .invalidParams("channel \(id): this node is the payee; only the payer pays") }
                throw Self.channelNotFound(id)
            }
            guard p.state.acceptsPayments else { throw Self.notActive(id, p.state) }
            guard !htlcs.owns(id) else {
                throw .paymesh(.temporaryChannelFailure, "channel \(id) carries HTLCs: its vouchers are the HTLC book's (Specs/channels.md §12.10)")
            }
            guard await peers.connection(to: p.terms.payee) != nil else {
                throw .peerNotConnected(p.terms.payee.description)
            }
        }
        let token = try admitWaiter()
        defer { waiters.release(token) }
        let owner = outcomes.payStarted(r.channels)
        bursts.started(owner, token: token)
        defer { bursts.ended(owner) }
        let started = nanos()
        // Progress counts what the payees acknowledged since the burst started.
        let ackedAtStart = Dictionary(Set(r.channels).map { ($0, payers[$0]?.ackedNonce ?? 0) }, uniquingKeysWith: { a, _ in a })
        let progressStep = PayProgress.step(count: r.count)
        var reportedAcked = -1
        func report(signed: Int, done: Bool) {
            guard let onProgress = r.onProgress else { return }
            let acked = ackedAtStart.reduce(0) { sum, entry in
                let now = payers[entry.key]?.ackedNonce ?? entry.value
                return sum + Int(clamping: now > entry.value ? now - entry.value : 0)
            }
            guard done || reportedAcked < 0 || acked >= reportedAcked + progressStep else { return }
            reportedAcked = acked
            onProgress(PayProgress(burst: owner, count: r.count, signed: signed, acked: acked,
                                   ackedAmount: UInt128(acked).multipliedReportingOverflow(by: r.amount).partialValue,
                                   elapsedNanos: nanos() - started, done: done))
        }
        report(signed: 0, done: false)
        var cancelled = false
        var signed = 0
        var failure: NodeError?
        var lastNonce: [ChannelID: UInt64] = [:]
        var stalledSince: UInt64?
        let deadline = started + r.timeoutMillis * 1_000_000
        let watched = Set(r.channels)
        let payeePeers = Set(r.channels.compactMap { payers[$0]?.terms.payee })

        issuing: while signed < r.count {
            report(signed: signed, done: false)
            // Cancelled (`cancelPay`): sign nothing more; what is in flight is still awaited below.
            if bursts.isCancelled(owner) {
                cancelled = true
                break issuing
            }
            var budget = min(r.count - signed, configuration.signBatch)
            if let rate = r.ratePerSecond, rate > 0 {
                let dueNanos = started + UInt64(signed) * 1_000_000_000 / UInt64(rate)
                let now = nanos()
                if now < dueNanos {
                    // Paced: sleep on the injected clock (the deadline queue) until the next payment is due.
                    if await wait(token, channels: [], until: NodeInstant(nanoseconds: dueNanos)) == .shutdown {
                        failure = .shuttingDown()
                        break issuing
                    }
                    continue
                }
                let due = Int((now - started) * UInt64(rate) / 1_000_000_000) + 1 - signed
                budget = max(1, min(budget, due))
            }
            var step = StepBuilder()
            var progress = 0
            let batchNow = now()
            var presigned = budget >= Self.presignMinimum ? presign(r, from: signed, budget: budget, now: batchNow) : [:]
            for _ in 0..<budget {
                let id = r.channels[signed % r.channels.count]
                guard payers[id] != nil else { failure = Self.channelNotFound(id); break issuing }
                if payers[id]!.unacknowledgedCount >= configuration.maxUnacknowledged { break }
                let peer = payers[id]!.terms.payee
                let actions: [ChannelAction]
                do {
                    actions = try book.pay(id, amount: r.amount, taskID: r.taskID, now: batchNow, presigned: presigned[id]?.popFirst())
                } catch {
                    enqueue(step)
                    if signed == 0 {
                        _ = outcomes.payEnded(owner, channels: watched)
                        throw Self.nodeError(error)
                    }
                    failure = Self.nodeError(error)
                    break issuing
                }
                let nonce = payers[id]!.latestVoucher?.nonce ?? 0
                lastNonce[id] = nonce
                outcomes.signed(id, nonce: nonce, at: nanos(), owner: owner)
                countSigned(id, amount: r.amount)
                stage(actions, channel: id, peer: peer, into: &step)
                signed += 1
                progress += 1
            }
            enqueue(step)
            if let (_, rejected) = outcomes.firstRejection(r.channels) {
                failure = .paymesh(rejected.code,
                                   "the payee rejected voucher \(rejected.nonce): \(rejected.reason ?? "")")
                break
            }
            if progress == 0 {
                // The window is full: wait for an acknowledgement, a rejection or a stream change.
                if let why = stalled(r.channels, since: &stalledSince, deadline: deadline) { failure = why; break }
                if await wait(token, channels: watched, peers: payeePeers, until: Self.waitLimit(deadline, stalledSince)) == .shutdown {
                    failure = .shuttingDown()
                    break
                }
            } else {
                stalledSince = nil
                await Task.yield()
            }
        }

        // Wait for the acknowledgement of the last voucher of each channel.
        while failure == nil {
            report(signed: signed, done: false)
            let done = lastNonce.allSatisfy { (payers[$0.key]?.ackedNonce ?? 0) >= $0.value }
            if done { break }
            if let (channel, rejected) = outcomes.firstRejection(r.channels), lastNonce[channel] == rejected.nonce {
                failure = .paymesh(rejected.code,
                                   "the payee rejected voucher \(rejected.nonce): \(rejected.reason ?? "")")
                break
            }
            if let why = stalled(r.channels, since: &stalledSince, deadline: deadline) { failure = why; break }
            if await wait(token, channels: watched, peers: payeePeers, until: Self.waitLimit(deadline, stalledSince)) == .shutdown {
                failure = .shuttingDown()
            }
        }
        if failure == nil, cancelled {
            failure = .cancelled("cancelled after \(signed) of \(r.count) payments; the signed ones were acknowledged")
        }
        report(signed: signed, done: true)
        let elapsed = nanos() - started
        let latencies = outcomes.payEnded(owner, channels: watched)
        metrics.acknowledged(latenciesNanos: latencies)
        let acked = Array(Set(r.channels)).compactMap { id -> PayOutcome.Acked? in
            guard let p = payers[id] else { return nil }
            return PayOutcome.Acked(channel: id, latestNonce: p.latestVoucher?.nonce ?? 0, paid: p.paidAmount,
                                    ackedNonce: p.ackedNonce, ackedAmount: p.ackedAmount)
        }
        return PayOutcome(signed: signed, channels: acked, elapsedNanos: elapsed, latenciesNanos: latencies, error: failure, burst: owner)
    }

    /// Batches of at least this many payments are signed ahead, in parallel (`presign`).
    static let presignMinimum = 8

    /// The vouchers the next `budget` payments of `r` (round robin from its `from`th) will sign,
    /// signed ahead on every core (`signInParallel`) instead of one after another in this actor's
    /// turn; `pay` uses each one only if it is exactly the voucher the channel machine signs then.
    private func presign(_ r: PayRequest, from: Int, budget: Int, now: UInt64) -> [ChannelID: ArraySlice<PaymentUpdate>] {
        var counts: [ChannelID: Int] = [:]
        var order: [ChannelID] = []
        let all = book.payers
        for k in 0..<budget {
            let id = r.channels[(from + k) % r.channels.count]
            guard let p = all[id] else { break }
            let planned = counts[id] ?? 0
            if p.unacknowledgedCount + planned >= configuration.maxUnacknowledged { break }
            if planned == 0 { order.append(id) }
            counts[id] = planned + 1
        }
        var unsigned: [PaymentUpdate] = []
        var domains: [SigningDomain] = []
        for id in order {
            let p = all[id]!
            let next = p.upcomingVouchers(amount: r.amount, count: counts[id]!, taskID: r.taskID, now: now)
            unsigned += next
            domains += repeatElement(p.terms.domain, count: next.count)
        }
        let signed = Self.signInParallel(unsigned, domains: domains, key: key)
        var out: [ChannelID: ArraySlice<PaymentUpdate>] = [:]
        for (i, v) in unsigned.enumerated() {
            if let s = signed[i] { out[v.channelID, default: []].append(s) }
        }
        return out
    }

    /// Signs `vouchers[i]` in `domains[i]` with `key`, on as many threads as there are cores
    /// (the caller's included). nil where signing failed (the machine then signs itself).
    static func signInParallel(_ vouchers: [PaymentUpdate], domains: [SigningDomain], key: IdentityKey) -> [PaymentUpdate?] {
        var out = [PaymentUpdate?](repeating: nil, count: vouchers.count)
        let workers = max(1, min(ProcessInfo.processInfo.activeProcessorCount, vouchers.count, 8))
        out.withUnsafeMutableBufferPointer { buffer in
            nonisolated(unsafe) let results = buffer
            DispatchQueue.concurrentPerform(iterations: workers) { worker in
                var i = worker
                while i < vouchers.count {
                    results[i] = try? vouchers[i].signed(with: key, domain: domains[i])
                    i += workers
                }
            }
        }
        return out
    }

    /// Stops the running `pay` burst `burst` (its `PayProgress.burst`) after the vouchers in
    /// flight: it signs nothing more, waits for their acknowledgements and returns with
    /// `complete: false` and `-32050 CANCELLED`. False when no such burst runs (it ended).
    public func cancelPay(_ burst: UInt64) -> Bool {
        guard let token = bursts.cancel(burst) else { return false }
        waiters.take(waiting: token)?.resume(returning: .event)
        return true
    }

    /// The ids of the `pay` bursts running now.
    public var runningBursts: [UInt64] { bursts.ids }

    /// A payee without a stream for this long stops `pay` with PEER_NOT_CONNECTED.
    static let payeeStallNanos: UInt64 = 1_000_000_000

    /// Until when to wait: the call's deadline, or earlier when a payee has lost its stream.
    static func waitLimit(_ deadline: UInt64, _ stalledSince: UInt64?) -> NodeInstant {
        NodeInstant(nanoseconds: min(deadline, stalledSince.map { $0 + payeeStallNanos } ?? .max))
    }

    /// Why waiting should stop: the deadline passed, or a payee has had no stream for a second.
    private func stalled(_ channels: [ChannelID], since: inout UInt64?, deadline: UInt64) -> NodeError? {
        let now = nanos()
        if now >= deadline { return .internalError("timed out waiting for acknowledgements") }
        let gone = channels.compactMap { payers[$0]?.terms.payee }.first { links[$0] == nil && !opening.contains($0) }
        guard let gone else {
            since = nil
            return nil
        }
        if since == nil { since = now }
        if now - since! >= Self.payeeStallNanos { return .peerNotConnected(gone.description) }
        return nil
    }
}

