import PaymeshChannels
import PaymeshMessages

/// The console's streaming calls: sessions live in `StreamSessions`, their payments go through the
/// channel book, per-second ticks through the deadline queue.
extension PaymentsService {
    public func startStream(channel id: ChannelID, unit: UsageUnit, price: UInt128, cap: UInt128) throws(NodeError) -> StreamView {
        guard let p = payers[id] else { throw payees[id] == nil ? Self.channelNotFound(id) : .invalidParams("only the payer streams payments") }
        guard p.state.acceptsPayments else { throw Self.notActive(id, p.state) }
        guard price > 0, cap > 0 else { throw .invalidParams("price and cap must be positive") }
        guard streams.count < StreamSessions.maxSessions else { throw .rateLimited("\(StreamSessions.maxSessions) streams are running") }
        let name = streams.start(channel: id, rate: StreamRate(unit: unit, price: price, asset: p.terms.asset), cap: cap, now: now())
        if unit == .second { schedule(.streamTick(name), at: instant(afterMillis: StreamSessions.tickMillis)) }
        logger.info("stream started", metadata: ["stream": "\(name)", "channel": "\(id)", "unit": "\(unit.rawValue)", "price": "\(price)"])
        return streams.view(name)!
    }

    /// Usage reported by the app: pays units × price (one voucher) and waits for its acknowledgement.
    public func streamUsage(_ name: String, units: UInt64) async throws(NodeError) -> StreamView {
        guard let id = streams.channel(of: name) else { throw unknownStream(name) }
        let token = try admitWaiter()
        defer { waiters.release(token) }
        let step = streams.recordUsage(name, units: units, now: now(), available: payers[id]?.available ?? 0)
        if let step, let nonce = try apply(step, stream: name) {
            let deadline = instant(afterMillis: Self.streamAckTimeoutMillis)
            while (payers[id]?.ackedNonce ?? 0) < nonce {
                if let r = outcomes.rejections[id], r.nonce == nonce {
                    throw .paymesh(r.code, r.reason ?? "voucher rejected")
                }
                switch await wait(token, channels: [id], until: deadline) {
                case .event: continue
                case .deadline: throw .internalError("no acknowledgement for voucher \(nonce)")
                case .shutdown: throw .shuttingDown()
                }
            }
        }
        guard let view = streams.view(name) else { throw .invalidParams("no stream \(name)") }
        return view
    }

    /// A stream as it is now (running, paused, or stopped and among the newest
    /// `StreamSessions.maxStopped` stopped ones), nil for an unknown name.
    public func streamView(_ name: String) -> StreamView? { streams.view(name) }

    /// Every stream the node knows: running, paused and the newest stopped ones, by number.
    public func streamViews() -> [StreamView] { streams.views }

    /// Resumes a paused stream (after the cap was raised or the channel topped up), with a new
    /// cap when `cap` is given; a running stream only takes the new cap. Paused time is not billed.
    public func resumeStream(_ name: String, cap: UInt128?) throws(NodeError) -> StreamView {
        guard let id = streams.channel(of: name) else { throw unknownStream(name) }
        if let p = payers[id], !p.state.acceptsPayments { throw Self.notActive(id, p.state) }
        switch streams.resume(name, cap: cap, now: now()) {
        case nil: break
        case .unknown?, .stopped?: throw unknownStream(name)
        case .capBelowPaid(let paid)?: throw .invalidParams("cap must be positive and at least what stream \(name) has paid (\(paid))")
        }
        let view = streams.view(name)!
        logger.info("stream resumed", metadata: ["stream": "\(name)", "channel": "\(id)", "cap": "\(view.cap)"])
        return view
    }

    /// Stops a stream; stopping a stopped stream returns its last view.
    public func stopStream(_ name: String) throws(NodeError) -> StreamView {
        guard let id = streams.channel(of: name) else {
            if let last = streams.view(name) { return last }
            throw unknownStream(name)
        }
        if streams.isPerSecond(name), let step = streams.tick(name, now: now(), available: payers[id]?.available ?? 0) {
            _ = try? apply(step, stream: name) // bill the last partial interval
        }
        return streams.stop(name)!
    }

    /// An unknown stream, or one that is stopped (it only answers `stream.info`/`stream.stop`).
    private func unknownStream(_ name: String) -> NodeError {
        streams.view(name) == nil ? .invalidParams("no stream \(name)") : .invalidParams("stream \(name) is stopped")
    }

    /// `streamUsage` waits this long for the acknowledgement of its voucher.
    static let streamAckTimeoutMillis: UInt64 = 10_000

    /// Per-second sessions: bills the time since the last tick and schedules the next one (a
    /// stopped session's tick finds it gone and ends there).
    func streamTick(_ name: String) {
        guard let id = streams.channel(of: name),
              let step = streams.tick(name, now: now(), available: payers[id]?.available ?? 0) else { return }
        _ = try? apply(step, stream: name)
        schedule(.streamTick(name), at: instant(afterMillis: StreamSessions.tickMillis))
    }

    /// Pays a session's step; returns the voucher's nonce. A refused payment pauses the session.
    private func apply(_ step: StreamingSession.Step, stream name: String) throws(NodeError) -> UInt64? {
        guard let id = streams.channel(of: name) else { return nil }
        switch step {
        case .none:
            return nil
        case .paused(let reason, let unpaid):
            logger.notice("stream paused", metadata: ["stream": "\(name)", "reason": "\(reason)", "unpaid": "\(unpaid)"])
            if events.hasSubscribers { events.publish(.streamPaused(stream: name, channel: id, reason: reason, unpaid: unpaid)) }
            return nil
        case .pay(let increment):
            guard let payee = payers[id]?.terms.payee else { throw Self.channelNotFound(id) }
            do {
                perform(try book.pay(id, amount: increment, taskID: streams.taskID(of: name), now: now()), channel: id, peer: payee)
            } catch {
                streams.refused(name, increment, code: error.code.rawValue)
                throw Self.nodeError(error)
            }
            let nonce = payers[id]!.latestVoucher?.nonce ?? 0
            countSigned(id, amount: increment)
            streams.paid(name, nonce: nonce)
            return nonce
        }
    }
}
