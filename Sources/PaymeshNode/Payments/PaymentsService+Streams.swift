import PaymeshChannels
import PaymeshMessages

/// A metered session over one payer channel (Specs/channels.md §11).
struct StreamEntry {
    var session: StreamingSession
    let channel: ChannelID
    var ticker: Task<Void, Never>?
    var vouchers = 0
    var lastNonce: UInt64 = 0
}

/// A session as the console shows it.
public struct StreamView: Sendable {
    public var id: String
    public var channel: ChannelID
    public var unit: UsageUnit
    public var price: UInt128
    public var cap: UInt128
    public var paid: UInt128
    public var paidUnits: UInt64
    public var status: String
    public var vouchers: Int
    public var lastNonce: UInt64
}

extension PaymentsService {
    public func startStream(channel id: ChannelID, unit: UsageUnit, price: UInt128, cap: UInt128) throws(NodeError) -> StreamView {
        guard let p = payers[id] else { throw payees[id] == nil ? Self.channelNotFound(id) : .invalidParams("only the payer streams payments") }
        guard p.state.acceptsPayments else { throw Self.notActive(id, p.state) }
        guard price > 0, cap > 0 else { throw .invalidParams("price and cap must be positive") }
        let name = "s\(nextSession)"
        nextSession += 1
        let session = StreamingSession(id: name, rate: StreamRate(unit: unit, price: price, asset: p.terms.asset), cap: cap, now: Self.now())
        var entry = StreamEntry(session: session, channel: id)
        if unit == .second {
            entry.ticker = Task { [weak self] in
                while !Task.isCancelled {
                    try? await Task.sleep(for: .milliseconds(250))
                    guard let self, await self.streamTick(name) else { return }
                }
            }
        }
        sessions[name] = entry
        logger.info("stream started", metadata: ["stream": "\(name)", "channel": "\(id)", "unit": "\(unit.rawValue)", "price": "\(price)"])
        return streamView(name)!
    }

    /// Usage reported by the app: pays units × price (one voucher) and waits for its acknowledgement.
    public func streamUsage(_ name: String, units: UInt64) async throws(NodeError) -> StreamView {
        guard sessions[name] != nil else { throw .invalidParams("no stream \(name)") }
        let id = sessions[name]!.channel
        let available = payers[id]?.available ?? 0
        let step = sessions[name]!.session.recordUsage(units: units, now: Self.now(), available: available)
        if let nonce = try apply(step, stream: name) {
            let deadline = Self.nanos() + 10_000_000_000
            while (payers[id]?.ackedNonce ?? 0) < nonce {
                if let r = rejections[id], r.nonce == nonce {
                    throw .paymesh(code: Int(r.code.rawValue), name: r.code.name ?? "UNKNOWN_ERROR", r.reason ?? "voucher rejected")
                }
                guard Self.nanos() < deadline else { throw .paymesh(code: 1502, name: "INTERNAL_ERROR", "no acknowledgement for voucher \(nonce)") }
                try? await Task.sleep(for: .milliseconds(1))
            }
        }
        return streamView(name)!
    }

    public func stopStream(_ name: String) throws(NodeError) -> StreamView {
        guard sessions[name] != nil else { throw .invalidParams("no stream \(name)") }
        if sessions[name]!.session.rate.unit == .second { _ = streamTick(name) } // bill the last partial interval
        sessions[name]!.session.stop()
        sessions[name]!.ticker?.cancel()
        let view = streamView(name)!
        sessions[name] = nil
        return view
    }

    /// Per-second sessions: bills the time since the last tick. False once the session is gone.
    func streamTick(_ name: String) -> Bool {
        guard let entry = sessions[name] else { return false }
        let available = payers[entry.channel]?.available ?? 0
        let step = sessions[name]!.session.onTimerTick(now: Self.now(), available: available)
        _ = try? apply(step, stream: name)
        return true
    }

    /// Pays a session's step; returns the voucher's nonce. A refused payment pauses the session.
    private func apply(_ step: StreamingSession.Step, stream name: String) throws(NodeError) -> UInt64? {
        guard let entry = sessions[name] else { return nil }
        let id = entry.channel
        switch step {
        case .none:
            return nil
        case .paused(let reason, let unpaid):
            logger.notice("stream paused", metadata: ["stream": "\(name)", "reason": "\(reason)", "unpaid": "\(unpaid)"])
            if events.hasSubscribers { events.publish(.streamPaused(stream: name, channel: id, reason: reason, unpaid: unpaid)) }
            return nil
        case .pay(let increment):
            guard payers[id] != nil else { throw Self.channelNotFound(id) }
            let asset = payers[id]!.terms.asset.id, peer = payers[id]!.terms.payee
            if guards[asset] == nil { guards[asset] = SpendingGuard(policy: policy) }
            do {
                let actions = try payers[id]!.pay(amount: increment, taskID: entry.session.taskID, now: Self.now(), policy: &guards[asset]!)
                perform(actions, channel: id, peer: peer)
            } catch {
                sessions[name]!.session.paymentRefused(increment, code: error.code.rawValue)
                throw Self.nodeError(error)
            }
            let nonce = payers[id]!.latestVoucher?.nonce ?? 0
            sessions[name]!.vouchers += 1
            sessions[name]!.lastNonce = nonce
            return nonce
        }
    }

    func streamView(_ name: String) -> StreamView? {
        guard let e = sessions[name] else { return nil }
        let status: String
        switch e.session.status {
        case .running: status = "running"
        case .stopped: status = "stopped"
        case .paused(let reason): status = "paused:\(reason)"
        }
        return StreamView(id: name, channel: e.channel, unit: e.session.rate.unit, price: e.session.rate.price, cap: e.session.cap,
                          paid: e.session.paid, paidUnits: e.session.paidUnits, status: status, vouchers: e.vouchers, lastNonce: e.lastNonce)
    }
}
