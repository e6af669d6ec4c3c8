import Foundation
import PaymeshChannels
import PaymeshMessages
import PaymeshStore

extension PaymentsService {
    // MARK: Opening and closing

    /// Proposes a channel to a connected peer: locks the deposit on the local ledger, sends the
    /// signed PAYMENT_OPEN and returns once the payee accepted it (OPEN) or refused it.
    public func openChannel(_ r: OpenRequest) async throws(NodeError) -> ChannelView {
        guard r.peer != me else { throw .invalidParams("cannot open a channel to this node itself") }
        let token = try admitWaiter()
        defer { waiters.release(token) }
        guard await peers.connection(to: r.peer) != nil else { throw .peerNotConnected(r.peer.description) }
        let proposed = book.proposedCount(to: r.peer)
        guard proposed < configuration.maxProposedChannelsPerPeer else {
            throw .paymesh(.channelLimitExceeded,
                           "\(proposed) channels to this peer are still waiting for its answer (limit \(configuration.maxProposedChannelsPerPeer))")
        }
        do { try book.assets.check(r.asset) } catch { throw Self.nodeError(error) }
        guard book.assets.decimals(of: r.asset.id) != nil else {
            throw .paymesh(.insufficientFunds, "this node has no \(r.asset.id) on its ledger: fund it first (ledger.fund)")
        }
        // Checked before anything is created, so a short wallet leaves no channel behind (the
        // deposit lock still refuses an overdraft should two opens race past this check).
        let wallet = (try? ledger.books.balance(owner: me, assetID: r.asset.id))?.atomicUnits ?? 0
        guard wallet >= r.deposit else {
            throw .paymesh(.insufficientFunds, "the deposit \(Amount(r.deposit).formatted(r.asset)) is more than the \(r.asset.id) wallet holds "
                           + "(\(Amount(wallet).formatted(r.asset))); nothing was opened")
        }
        let salt = r.salt ?? random.bytes(32)
        if let fixed = try? ChannelTerms.deriveChannelID(payer: me, payee: r.peer, openNonce: 0, salt: salt), payers[fixed] != nil {
            throw .paymesh(.channelDepositInvalid, "channel \(fixed) was proposed already")
        }
        let (channel, actions): (PayerChannel, [ChannelAction])
        do {
            (channel, actions) = try PayerChannel.open(key: key, payee: r.peer, asset: r.asset, deposit: r.deposit,
                                                       challengePeriodSeconds: r.challengePeriodSeconds, chainID: r.chainID,
                                                       salt: salt, now: now())
        } catch {
            throw Self.nodeError(error)
        }
        let id = channel.channelID
        perform(book.proposed(channel))
        logger.info("opening channel", metadata: ["channel": "\(id)", "payee": "\(r.peer)", "deposit": "\(r.deposit)", "asset": "\(r.asset)"])
        perform(actions, channel: id, peer: r.peer)
        return try await awaitOpenAnswer(id, token: token, timeoutMillis: r.timeoutMillis)
    }

    /// Waits for the payee's answer to payer channel `id` this node proposed (at once when it came
    /// already): the channel once OPEN; the payee's refusal as its error; an internal error while still PROPOSED at the deadline.
    public func awaitOpenAnswer(_ id: ChannelID, timeoutMillis: UInt64) async throws(NodeError) -> ChannelView {
        let token = try admitWaiter()
        defer { waiters.release(token) }
        return try await awaitOpenAnswer(id, token: token, timeoutMillis: timeoutMillis)
    }

    private func awaitOpenAnswer(_ id: ChannelID, token: UInt64, timeoutMillis: UInt64) async throws(NodeError) -> ChannelView {
        // A refused open moves the machine to SETTLED before its refusal is recorded (the
        // notification follows the durable write): wait for the reason, not only the state.
        let outcome = await waitFor(id, token: token, timeoutMillis: timeoutMillis) { [self] s in
            s.state != .proposed && (s.state != .settled || outcomes.openFailures[id] != nil)
        }
        guard let view = view(id) else { throw Self.channelNotFound(id) }
        if let failure = outcomes.openFailures.removeValue(forKey: id) {
            throw .paymesh(failure.code,
                           "channel \(id) refused: \(failure.reason ?? "")")
        }
        guard view.snapshot.state != .settled else {
            throw .paymesh(.channelDepositInvalid, "channel \(id) was refused (no reason recorded)")
        }
        guard outcome else { throw .internalError("no answer to the open of \(id) yet (still PROPOSED)") }
        return view
    }

    /// Starts a cooperative close (waits until SETTLED when `wait`) or a unilateral one (returns
    /// CLOSING with the challenge deadline).
    public func closeChannel(_ id: ChannelID, cooperative: Bool, wait: Bool, timeoutMillis: UInt64) async throws(NodeError) -> ChannelView {
        guard peerOf(id) != nil else { throw Self.channelNotFound(id) }
        if htlcs.owns(id) {
            throw .paymesh(.temporaryChannelFailure, "channel \(id) has HTLCs in flight (Specs/channels.md §12.10); close it once they are resolved")
        }
        let token = cooperative && wait ? try admitWaiter() : nil
        defer { if let token { waiters.release(token) } }
        let actions: [BookAction]
        do { actions = try book.close(id, cooperative: cooperative, now: now()) } catch {
            throw Self.nodeError(error)
        }
        outcomes.closeFailures[id] = nil
        perform(actions)
        if let token {
            let settled = await waitFor(id, token: token, timeoutMillis: timeoutMillis) { $0.state == .settled }
            if !settled, let failure = outcomes.closeFailures.removeValue(forKey: id) {
                throw .paymesh(failure.code,
                               "close refused: \(failure.reason ?? "")")
            }
        }
        guard let v = view(id) else { throw Self.channelNotFound(id) }
        return v
    }

    /// Waits until `condition` holds (or a refusal is recorded), re-checking it only when an event
    /// of the channel resumes the wait; false at the deadline or shutdown.
    func waitFor(_ id: ChannelID, token: UInt64, timeoutMillis: UInt64, _ condition: (ChannelSnapshot) -> Bool) async -> Bool {
        let deadline = instant(afterMillis: timeoutMillis)
        while true {
            guard let s = snapshot(id) else { return false }
            if condition(s) { return true }
            if outcomes.openFailures[id] != nil || outcomes.closeFailures[id] != nil { return false }
            if await wait(token, channels: [id], until: deadline) != .event { return snapshot(id).map(condition) ?? false }
        }
    }
}
