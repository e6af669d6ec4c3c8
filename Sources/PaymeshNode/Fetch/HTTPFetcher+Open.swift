import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshPay402

/// A channel opened for a request (Specs/http402.md §11.3): when no channel to the payee can pay
/// and the spending policy's `auto_open` terms allow it, the node reaches the payee, proposes a
/// channel with the policy's deposit (as `channel.open` does: persisted, then acknowledged by the
/// payee) and pays the request through it. The journal entry (`opening`) fixes the channel's salt
/// — hence its id — before anything is proposed, so a retry of the key after a crash finds that
/// channel instead of opening a second one, and pays at most once (§11.4).
///
/// These functions throw untyped errors — always a `NodeError`, which the caller restores with
/// `asNodeError`: written with `throws(NodeError)`, an early throw after a suspension made the
/// debug build of this toolchain jump to address 0 once the call returned (seen on the 1488 and
/// 1489 paths of `FetchOpenTests`).
extension HTTPFetcher {
    func openAndPay(_ offered: PaymentOffers.Requirement, _ requirements: PaymentRequirements, deposit: UInt128, key: String, method: String,
                    request: FetchRequest, target: Target, headers: [(String, String)], cap: UInt128) async throws -> FetchResult {
        let channel: ChannelID
        var entry: FetchEntry
        do {
            let asset = Asset.normalizedID(offered.asset)
            let wallet = await payments.walletBalance(asset)
            guard wallet >= deposit else {
                throw NodeError.paymesh(.fetchChannelOpenRefused, "the auto_open deposit \(deposit) is more than the \(asset) wallet holds (\(wallet)); "
                               + "nothing was opened or paid")
            }
            try await reach(offered.payTo)
            let salt = payments.random.bytes(32)
            channel = try await payments.payerChannelID(to: offered.payTo, salt: salt)
            entry = FetchEntry(key: key, method: method, url: request.url, requirement: offered, requirements: requirements,
                               channel: channel.description, nonce: 1, now: payments.now())
            entry.status = .opening
            entry.openSalt = "0x" + salt.hexString
            entry.deposit = String(deposit)
            try await save(entry)  // durable before the channel is proposed: a retry proposes this same channel
        } catch {
            openFinished()
            throw error
        }
        return try await continueOpening(&entry, channel: channel, request: request, target: target, headers: headers, cap: cap, holdsOpen: true)
    }

    /// An `opening` entry, new or found by a retry (`FetchEntry.openingStep`): the channel is
    /// proposed (again, with the same salt), awaited, or used; never a second one.
    func continueOpening(_ entry: inout FetchEntry, channel: ChannelID, request: FetchRequest, target: Target, headers: [(String, String)],
                         cap: UInt128?, holdsOpen: Bool = false) async throws -> FetchResult {
        guard let payee = EthereumAddress(string: entry.payTo), let salt = entry.openSaltBytes, let deposit = entry.deposit.flatMap({ UInt128($0) }),
              let requirements = entry.requirements, let chainID = UInt64(requirements.extra.chainId),
              let decimals = UInt8(exactly: requirements.extra.decimals), let asset = try? Asset(id: Asset.normalizedID(entry.asset), decimals: decimals)
        else {
            if holdsOpen { openFinished() }
            throw NodeError.internalError("fetch entry \(entry.key) unreadable")
        }
        do {
            switch FetchEntry.openingStep(channel: await payments.payerState(channel)) {
            case .open:
                try await reach(payee)
                var open = OpenRequest(peer: payee, asset: asset, deposit: deposit, chainID: chainID, timeoutMillis: limits.openTimeoutMillis)
                open.salt = salt
                _ = try await payments.openChannel(open)
            case .awaitAnswer:
                try await reach(payee)  // a PROPOSED channel's PAYMENT_OPEN goes again when the link comes up (Specs/channels.md §8)
                _ = try await payments.awaitOpenAnswer(channel, timeoutMillis: limits.openTimeoutMillis)
            case .pay:
                break
            case .refused:
                throw NodeError.paymesh(.fetchChannelOpenRefused, "channel \(channel) was refused or closed")
            }
        } catch {
            if holdsOpen { openFinished() }
            return try await openFailed(&entry, channel: channel, Self.asNodeError(error))
        }
        // The turn is held until this request's first voucher through the new channel was presented:
        // a request waiting for the channel then signs the next nonce, and it reaches the gateway after.
        var holding = holdsOpen
        defer { if holding { openFinished() } }
        // And the channel's presentation turn (§11.5), from reading its next nonce until the voucher was answered.
        let turn = try await takeTurn(channel)
        var first: FetchResult
        do {
            defer { passTurn(channel, turn) }
            entry.status = .signing
            entry.nonce = String(try await payments.nextVoucherNonce(channel))
            entry.updatedAt = payments.now()
            try await save(entry)  // durable before anything is signed (§11.4)
            if let cap, let timed = TimedPurchase(requirements, cap: cap) {
                if holding { openFinished(); holding = false }  // a per-second answer tops up for as long as it streams
                var bought = try await buyTimed(&entry, timed, channel: channel, turn: turn, request: request, target: target, headers: headers)
                bought.opened = channel
                return bought
            }
            first = try await signAndPresent(&entry, channel: channel, request: request, target: target, headers: headers)
        }
        if holding { openFinished(); holding = false }
        first.opened = channel
        guard let cap, let purchase = MeteredPurchase(requirements, cap: cap) else { return first }
        return try await buyMetered(first, purchase, entry: &entry, channel: channel, target: target, headers: headers)
    }

    /// The open did not end OPEN: nothing was signed. A channel refused by the payee (or closed)
    /// ends the entry (`refused`, 1488); one still PROPOSED, or never proposed, leaves it `opening`
    /// for a retry with the key.
    private func openFailed(_ entry: inout FetchEntry, channel: ChannelID, _ error: NodeError) async throws -> FetchResult {
        switch FetchEntry.openingStep(channel: await payments.payerState(channel)) {
        case .refused:
            entry.status = .refused
            entry.code = Int(PaymeshErrorCode.fetchChannelOpenRefused.rawValue)
            entry.reason = String("channel \(channel) opened for the request was refused: \(error.detail)".prefix(256))
            entry.updatedAt = payments.now()
            try await save(entry)
            throw NodeError.paymesh(.fetchChannelOpenRefused, "\(entry.reason!); nothing was paid")
        case .awaitAnswer:
            throw NodeError.paymesh(.fetchFailed, "channel \(channel) was proposed to \(entry.payTo) and has no answer yet (\(error.detail)); "
                           + "retry with idempotency key \(entry.key): the same channel is awaited, no second one is opened")
        case .open, .pay:
            if error.paymeshCode == .fetchPayeeUnreachable || error.paymeshCode == .fetchChannelOpenRefused { throw error }
            throw NodeError.paymesh(.fetchChannelOpenRefused, "channel \(channel) was not opened: \(error.detail); retry with idempotency key \(entry.key)")
        }
    }

    static func asNodeError(_ error: any Error) -> NodeError {
        (error as? NodeError) ?? .internalError("\(error)")
    }

    /// The open in flight ended (opened or not): the requests waiting for it choose again.
    func openFinished() {
        openInFlight = false
        openingPayee = nil
        openGeneration += 1
        let waiting = openWaiters
        openWaiters = [:]
        for waiter in waiting.values { waiter.resume() }
    }

    /// Waits while a channel is being opened for another request, until `deadline` on the node's
    /// clock at the latest (then 1487: nothing was opened or paid, the request may be retried);
    /// the first wait of a request fixes its deadline, `openWaitMillis` from then. Woken by
    /// `openFinished`, not by polling; the timer is an unstructured task (a task group here is a
    /// known crash of this toolchain, see the note above).
    func awaitOpenFinished(deadline: inout NodeInstant?) async throws {
        let until = deadline ?? payments.clock.now.advanced(by: .milliseconds(Int64(clamping: limits.openWaitMillis)))
        deadline = until
        while openInFlight {
            guard payments.clock.now < until else {
                throw NodeError.paymesh(.fetchFailed, "the channel this request needs was being opened for another request for "
                                        + "\(limits.openWaitMillis) ms; nothing was opened or paid: retry")
            }
            let ticket = openWaiterTickets
            openWaiterTickets += 1
            let clock = payments.clock
            let timer = Task { [weak self] in
                try? await clock.sleep(until: until)
                await self?.openWaitEnded(ticket)
            }
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in openWaiters[ticket] = c }
            timer.cancel()
        }
    }

    func openWaitEnded(_ ticket: UInt64) { openWaiters.removeValue(forKey: ticket)?.resume() }

    /// A connection to `payee`: the one there is, else one to an address of its gossip node
    /// announcement on loopback (this node fetches from loopback only, §11.1), proven to be `payee`.
    func reach(_ payee: EthereumAddress) async throws {
        if await payments.peers.connection(to: payee) != nil { return }
        var announced: [String] = []
        if let gossip = routed?.gossip { announced = await gossip.nodeAddresses(payee) }
        var tried: [String] = []
        for text in announced.prefix(8) {
            guard let endpoint = PeerEndpoint(text), endpoint.port > 0, UpstreamURL.isLoopback(endpoint.host) else {
                tried.append("\(text.prefix(64)) is not a loopback host:port"); continue
            }
            do {
                _ = try await payments.peers.connect(endpoint, expected: payee)
                return
            } catch {
                tried.append("\(endpoint): \(error.detail)")
            }
        }
        throw NodeError.paymesh(.fetchPayeeUnreachable, "this node has no connection to \(payee) and "
                       + (announced.isEmpty ? "no node announcement of it with an address" : "none of its announced addresses answered ("
                          + tried.prefix(4).joined(separator: "; ") + ")") + "; nothing was opened or paid")
    }
}
