import PaymeshMessages

/// The presentation turn of a payer channel (Specs/http402.md §11.5, `ChannelTurns`): a request
/// takes it before it reads the channel's next nonce and passes it once the gateway answered that
/// voucher, so the vouchers of one channel reach the gateway one at a time, in nonce order.
extension HTTPFetcher {
    /// Waits for the turn of `channel` (behind earlier requests, in order) and returns its ticket;
    /// the caller must `passTurn` it on every path. Woken by `passTurn`, not by polling; a wait past
    /// `turnWaitMillis` on the node's clock is 1487 with nothing signed (the key may be retried).
    func takeTurn(_ channel: ChannelID) async throws(NodeError) -> UInt64 {
        let ticket: UInt64
        switch turns.take(channel) {
        case .granted(let t): return t
        case .full: throw .paymesh(.rateLimited, "\(turns.capacity) requests are waiting to present vouchers; retry")
        case .wait(let t): ticket = t
        }
        let clock = payments.clock
        let until = clock.now.advanced(by: .milliseconds(Int64(clamping: limits.turnWaitMillis)))
        // (An unstructured timer task: a task group here is a known crash of this toolchain.)
        let timer = Task { [weak self] in
            try? await clock.sleep(until: until)
            await self?.turnWaitEnded(channel, ticket)
        }
        let granted = await withCheckedContinuation { (c: CheckedContinuation<Bool, Never>) in turnWaiters[ticket] = c }
        timer.cancel()
        guard granted else {
            throw .paymesh(.fetchFailed, "channel \(channel) was busy presenting earlier vouchers for \(limits.turnWaitMillis) ms; "
                           + "nothing was signed: retry")
        }
        return ticket
    }

    /// Ends `ticket` (held or waiting); the next request in the channel's queue gets the turn. Passing twice changes nothing.
    func passTurn(_ channel: ChannelID, _ ticket: UInt64) {
        if let next = turns.end(channel, ticket) { turnWaiters.removeValue(forKey: next)?.resume(returning: true) }
    }

    /// The wait of `ticket` reached its deadline: withdrawn, unless it was given the turn meanwhile.
    func turnWaitEnded(_ channel: ChannelID, _ ticket: UInt64) {
        guard let waiter = turnWaiters.removeValue(forKey: ticket) else { return }
        passTurn(channel, ticket)
        waiter.resume(returning: false)
    }
}
