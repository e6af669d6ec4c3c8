import Foundation
import PaymeshChannels
import PaymeshMessages

/// What `pay` is asked to do. A struct (not a long argument list): Swift 6.3.1 miscompiles some
/// async calls whose long argument lists carry several UInt128 values.
public struct PayRequest: Sendable {
    public var channels: [ChannelID]
    /// Increment per payment, atomic units.
    public var amount: UInt128
    public var taskID: String?
    /// Payments to make (round-robin over `channels`).
    public var count: Int
    /// Pace issuance at this many payments per second (nil: as fast as possible).
    public var ratePerSecond: Int?
    public var timeoutMillis: UInt64

    public init(channels: [ChannelID], amount: UInt128, taskID: String? = nil, count: Int = 1, ratePerSecond: Int? = nil,
                timeoutMillis: UInt64 = 60_000) {
        self.channels = channels
        self.amount = amount
        self.taskID = taskID
        self.count = count
        self.ratePerSecond = ratePerSecond
        self.timeoutMillis = timeoutMillis
    }
}

/// What `pay` did: how many vouchers it signed, what the payee acknowledged, and how long it took.
public struct PayOutcome: Sendable {
    public struct Acked: Sendable {
        public var channel: ChannelID
        public var latestNonce: UInt64
        public var paid: UInt128
        public var ackedNonce: UInt64
        public var ackedAmount: UInt128
    }

    public var signed: Int
    public var channels: [Acked]
    public var elapsedNanos: UInt64
    /// Sign-to-acknowledgement latency of each acknowledged voucher, sorted.
    public var latenciesNanos: [UInt64]
    /// Why the call stopped early (nil: every payment acknowledged).
    public var error: NodeError?
}

extension PaymentsService {
    static func nanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

    static func nodeError(_ e: ChannelError) -> NodeError {
        var text = e.detail
        if let limit = e.policyLimit { text += " (spending policy: \(limit.rawValue))" }
        return .paymesh(code: Int(e.code.rawValue), name: e.code.name ?? "UNKNOWN_ERROR", text)
    }

    static func notActive(_ id: ChannelID, _ state: ChannelState) -> NodeError {
        .paymesh(code: 1002, name: "CHANNEL_NOT_ACTIVE", "channel \(id) is \(state)")
    }

    public static func channelNotFound(_ id: ChannelID) -> NodeError {
        .paymesh(code: 1000, name: "CHANNEL_NOT_FOUND", "no channel \(id) on this node")
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
            guard await peers.connection(to: p.terms.payee.ethereumAddress) != nil else {
                throw .peerNotConnected(p.terms.payee.ethereumAddress.description)
            }
        }
        let owner = nextSession
        nextSession += 1
        for id in r.channels {
            trackers[id, default: []].append(LatencyTracker(owner: owner))
            rejections[id] = nil
        }
        let started = Self.nanos()
        var signed = 0
        var failure: NodeError?
        var lastNonce: [ChannelID: UInt64] = [:]
        var stalledSince: UInt64?
        let deadline = started + r.timeoutMillis * 1_000_000

        issuing: while signed < r.count {
            var budget = min(r.count - signed, configuration.signBatch)
            if let rate = r.ratePerSecond, rate > 0 {
                let dueNanos = started + UInt64(signed) * 1_000_000_000 / UInt64(rate)
                let now = Self.nanos()
                if now < dueNanos {
                    try? await Task.sleep(for: .nanoseconds(Int64(dueNanos - now)))
                    continue
                }
                let due = Int((now - started) * UInt64(rate) / 1_000_000_000) + 1 - signed
                budget = max(1, min(budget, due))
            }
            var step = StepBuilder()
            var progress = 0
            for _ in 0..<budget {
                let id = r.channels[signed % r.channels.count]
                guard payers[id] != nil else { failure = Self.channelNotFound(id); break issuing }
                if payers[id]!.unacknowledgedCount >= configuration.maxUnacknowledged { break }
                let peer = payers[id]!.terms.payee, asset = payers[id]!.terms.asset.id
                if guards[asset] == nil { guards[asset] = SpendingGuard(policy: policy) }
                let actions: [ChannelAction]
                do {
                    actions = try payers[id]!.pay(amount: r.amount, taskID: r.taskID, now: Self.now(), policy: &guards[asset]!)
                } catch {
                    enqueue(step)
                    if signed == 0 {
                        dropTrackers(owner)
                        throw Self.nodeError(error)
                    }
                    failure = Self.nodeError(error)
                    break issuing
                }
                let nonce = payers[id]!.latestVoucher?.nonce ?? 0
                lastNonce[id] = nonce
                let t = Self.nanos()
                if let i = trackers[id]?.firstIndex(where: { $0.owner == owner }) { trackers[id]![i].signed(nonce: nonce, at: t) }
                stage(actions, channel: id, peer: peer, into: &step)
                signed += 1
                progress += 1
            }
            enqueue(step)
            if let rejected = firstRejection(r.channels) {
                failure = .paymesh(code: Int(rejected.code.rawValue), name: rejected.code.name ?? "UNKNOWN_ERROR",
                                   "the payee rejected voucher \(rejected.nonce): \(rejected.reason ?? "")")
                break
            }
            if progress == 0 {
                if let why = stalled(r.channels, since: &stalledSince, deadline: deadline) { failure = why; break }
                try? await Task.sleep(for: .microseconds(500))
            } else {
                stalledSince = nil
                await Task.yield()
            }
        }

        // Wait for the acknowledgement of the last voucher of each channel.
        while failure == nil {
            let done = lastNonce.allSatisfy { (payers[$0.key]?.ackedNonce ?? 0) >= $0.value }
            if done { break }
            if let rejected = firstRejection(r.channels), lastNonce[rejectedChannel(r.channels) ?? r.channels[0]] == rejected.nonce {
                failure = .paymesh(code: Int(rejected.code.rawValue), name: rejected.code.name ?? "UNKNOWN_ERROR",
                                   "the payee rejected voucher \(rejected.nonce): \(rejected.reason ?? "")")
                break
            }
            if let why = stalled(r.channels, since: &stalledSince, deadline: deadline) { failure = why; break }
            try? await Task.sleep(for: .microseconds(500))
        }
        let elapsed = Self.nanos() - started
        var latencies: [UInt64] = []
        for id in Set(r.channels) {
            if let t = trackers[id]?.first(where: { $0.owner == owner }) { latencies += t.latenciesNanos }
        }
        dropTrackers(owner)
        let acked = Array(Set(r.channels)).compactMap { id -> PayOutcome.Acked? in
            guard let p = payers[id] else { return nil }
            return PayOutcome.Acked(channel: id, latestNonce: p.latestVoucher?.nonce ?? 0, paid: p.paidAmount,
                                    ackedNonce: p.ackedNonce, ackedAmount: p.ackedAmount)
        }
        return PayOutcome(signed: signed, channels: acked, elapsedNanos: elapsed, latenciesNanos: latencies.sorted(), error: failure)
    }

    private func dropTrackers(_ owner: UInt64) {
        for id in Array(trackers.keys) {
            trackers[id]!.removeAll { $0.owner == owner }
            if trackers[id]!.isEmpty { trackers[id] = nil }
        }
    }

    private func firstRejection(_ channels: [ChannelID]) -> Rejection? {
        for id in channels { if let r = rejections[id] { return r } }
        return nil
    }

    private func rejectedChannel(_ channels: [ChannelID]) -> ChannelID? { channels.first { rejections[$0] != nil } }

    /// Why waiting should stop: the deadline passed, or a payee has had no stream for a second.
    private func stalled(_ channels: [ChannelID], since: inout UInt64?, deadline: UInt64) -> NodeError? {
        let now = Self.nanos()
        if now > deadline { return .paymesh(code: 1502, name: "INTERNAL_ERROR", "timed out waiting for acknowledgements") }
        let gone = channels.compactMap { payers[$0]?.terms.payee }.first { links[$0] == nil && !opening.contains($0) }
        guard let gone else {
            since = nil
            return nil
        }
        if since == nil { since = now }
        if now - since! > 1_000_000_000 { return .peerNotConnected(gone.ethereumAddress.description) }
        return nil
    }
}

