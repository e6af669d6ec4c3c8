public import PaymeshChannels
public import PaymeshCrypto
public import PaymeshMessages
public import PaymeshStore

/// What a payment over a route came to, at its origin (Specs/channels.md §12.3).
public enum RoutePaymentResult: Sendable, Equatable {
    /// The final hop revealed `preimage`: it received `amount`, the hops kept `fees`.
    case succeeded(paymentHash: Hash32, preimage: Hash32, amount: UInt128, fees: UInt128)
    /// Hop `hopIndex` (`node`) failed the payment with `code`; every HTLC of it is unlocked.
    case failed(paymentHash: Hash32, hopIndex: Int, node: EthereumAddress, code: PaymeshErrorCode)
}

/// The driver of the HTLC book (Specs/channels.md §12.10–§12.11): it takes channels over from their
/// machines, feeds the book HTLC messages, timers and reconnections, and performs its actions
/// through the outbox (a `.persist` is a `saveHTLCs` write; sends and notifications wait for it).
extension PaymentsService {
    // MARK: Taking a channel's voucher sequence over (§12.10)

    /// Adds `id` to the HTLC book from its channel machine's latest voucher, when it may take over.
    func takeOver(_ id: ChannelID) throws(NodeError) {
        guard !htlcs.owns(id) else { return }
        guard let s = book.snapshot(id) else { throw Self.channelNotFound(id) }
        guard s.state.acceptsPayments else { throw .paymesh(.channelNotActive, "channel \(id) is \(s.state)") }
        if awaitsAcknowledgement(s) {
            throw .paymesh(.temporaryChannelFailure, "channel \(id) has unacknowledged vouchers; retry once they are acknowledged")
        }
        htlcs.add(terms: s.terms, role: s.role, nonce: s.latestVoucher?.nonce ?? 0, settled: s.paidAmount)
    }

    /// Unacknowledged plain vouchers of the machine block a take-over, except the book's own last
    /// voucher handed back (§12.10 step 4): the book signed it and continues right after it.
    private func awaitsAcknowledgement(_ s: ChannelSnapshot) -> Bool {
        guard s.role == .payer, let v = s.latestVoucher, s.ackedNonce < v.nonce else { return false }
        return htlcs.channels[s.channelID]?.lastUpdate != v
    }

    /// The origin's take-over (§12.10 step 2): while the payer machine still waits for the
    /// acknowledgement of a plain voucher it signed (a payment just before this one, or the book's
    /// own last voucher handed back), the call waits — resumed by that channel's events, never by
    /// polling — until every voucher is acknowledged, then takes over; at `deadline` it fails as
    /// before (1408). Any other refusal is immediate.
    func takeOverWhenAcknowledged(_ id: ChannelID, token: UInt64, until deadline: NodeInstant) async throws(NodeError) {
        while true {
            guard !htlcs.owns(id), let s = book.snapshot(id), s.state.acceptsPayments, awaitsAcknowledgement(s) else {
                return try takeOver(id)
            }
            if refusedSinceAcknowledged(s), let refused = outcomes.rejections[id] {
                throw .paymesh(.temporaryChannelFailure, "channel \(id): voucher \(refused.nonce) was refused (\(refused.code)); its state is not settled")
            }
            switch await wait(token, channels: [id], until: deadline) {
            case .event: continue
            case .deadline: return try takeOver(id)
            case .shutdown: throw .shuttingDown()
            }
        }
    }

    /// A voucher of the channel above its acknowledged nonce was refused: its state is not settled,
    /// so waiting for an acknowledgement is pointless (§12.10).
    private func refusedSinceAcknowledged(_ s: ChannelSnapshot) -> Bool {
        guard let refused = outcomes.rejections[s.channelID], let v = s.latestVoucher else { return false }
        return refused.nonce > s.ackedNonce && refused.nonce <= v.nonce
    }

    /// A forwarding hop's parked HTLC (§12.10): waits — resumed by the next channel's events, never
    /// polling — until that channel may be taken over, then forwards it; at `htlcTakeOverWaitMillis`
    /// on the node's clock, or when the channel cannot be taken over (closing, a voucher refused),
    /// fails it upstream with 1408. At shutdown it stays pending (its expiry unlocks it).
    func forwardWhenAcknowledged(_ incoming: HTLCRef, over next: ChannelID) async {
        guard htlcs.isParked(incoming) else { return }
        guard let token = try? admitWaiter() else { return perform(htlcs.abandonParked(incoming, now: now())) }
        defer { waiters.release(token) }
        do {
            try await takeOverWhenAcknowledged(next, token: token, until: instant(afterMillis: configuration.htlcTakeOverWaitMillis))
        } catch {
            if error.consoleCode == NodeError.shuttingDown().consoleCode { return }
            logger.notice("parked HTLC not forwarded", metadata: ["incoming": "\(incoming)", "next": "\(next)", "error": "\(error.detail)"])
            return perform(htlcs.abandonParked(incoming, now: now()))
        }
        perform(htlcs.forwardParked(incoming, now: now()))
        htlcs.releaseUnused(next)
    }

    /// Whether `m` goes to the HTLC book rather than the channel book.
    func isHTLCMessage(_ m: Message) -> Bool {
        switch m {
        case .htlcPropose, .htlcFulfill, .htlcCancel: true
        case .paymentUpdate(let v): htlcs.owns(v.channelID) && htlcs.channels[v.channelID]?.role == .payee
        // The payee's answers to the book's vouchers: the payer does not track them (§12.3).
        case .paymentAck(let a): htlcs.owns(a.channelID) && htlcs.channels[a.channelID]?.role == .payer
        default: false
        }
    }

    /// One HTLC message from `peer`. An HTLC_PROPOSE on a channel the book does not own yet takes it
    /// over; every payer channel that may be taken over is offered to the book as a next hop, and
    /// those the proposal did not use are given back at once.
    func receivedHTLC(_ m: Message, from peer: EthereumAddress) {
        LatencyTrace.mark("recv \(m.type)")
        if case .paymentAck(let a) = m {
            if a.status != .accepted {
                logger.notice("HTLC voucher refused", metadata: ["channel": "\(a.channelID)", "nonce": "\(a.nonce)",
                                                                 "code": "\(a.errorCode.map { "\($0.rawValue)" } ?? "-")"])
            }
            return
        }
        var candidates: [ChannelID] = []
        var awaiting: Set<ChannelID> = []
        if case .htlcPropose(let p) = m {
            if payees[p.channelID] != nil {
                do { try takeOver(p.channelID) } catch { return perform(htlcs.refuse(p, peer, error)) }
            }
            for (id, payer) in payers where !htlcs.owns(id) && payer.state.acceptsPayments {
                if (try? takeOver(id)) != nil {
                    candidates.append(id)
                } else if let s = book.snapshot(id), awaitsAcknowledgement(s), !refusedSinceAcknowledged(s) {
                    awaiting.insert(id) // a forward over it waits for the acknowledgement (§12.10)
                }
            }
        }
        let actions = htlcs.onReceived(m, from: peer, now: now(), awaitingAcknowledgement: awaiting)
        LatencyTrace.mark("book.done \(m.type) actions=\(actions.count)")
        for id in candidates { htlcs.releaseUnused(id) }
        perform(actions)
        // The payer's plain voucher that left out the last HTLC: the sequence goes back to the machine.
        if case .paymentUpdate(let v) = m, v.locks == nil, let c = htlcs.channels[v.channelID], c.htlcs.isEmpty, c.nonce == v.nonce {
            handBack(v, to: peer)
        }
    }

    /// Gives a channel's voucher sequence back to its machine (§12.10 step 4): `v`, the book's
    /// latest voucher (plain, every HTLC left out), becomes the machine's latest, written through
    /// the machine's own persist path (the store's voucher log and its guards).
    func handBack(_ v: PaymentUpdate, to peer: EthereumAddress) {
        guard var s = book.snapshot(v.channelID), v.nonce > (s.latestVoucher?.nonce ?? 0) else { return }
        s.latestVoucher = v
        s.updatedAt = now()
        do { perform(try book.load(s)) } catch {
            logger.error("cannot hand a channel back from the HTLC book", metadata: ["channel": "\(v.channelID)", "error": "\(error)"])
            return
        }
        perform([.channel(v.channelID, peer: peer, [.persist(s)])])
    }

    // MARK: Performing the book's actions

    /// Performs the book's actions in order, as one outbox step: writes first, the rest once durable.
    /// Actions before the list's first `.persist` depend on none of its writes (Specs/channels.md
    /// §12.4: a forwarder's HTLC_FULFILL upstream): they are a step of their own with no write,
    /// performed at once behind the earlier steps (so messages to a peer keep their order).
    /// A channel persisted more than once in the list is written once, in its last state (each write
    /// replaces the whole state, and nothing of the step is sent before all of it is durable): an
    /// accepted HTLC that is forwarded or fulfilled at once costs one commit, not two in a row.
    /// `entry` (the origin's journal entry of the attempt, Specs/routing.md §8 step 5) is written in
    /// the request of the first channel state the list persists: one commit with the HTLC it sends.
    func perform(_ actions: [HTLCAction], entry: StoredPayment? = nil) {
        guard !actions.isEmpty else { return }
        var step = StepBuilder()
        var idle: [PaymentUpdate] = []
        var paid: [ChannelID: [InvoicePayment]] = [:]
        var resolved: [ChannelID: [RouteOutcome]] = [:]
        var lastPersist: [ChannelID: Int] = [:]
        var entry = entry
        var firstPersist: Int?
        for (i, action) in actions.enumerated() {
            guard case .persist(let c) = action else { continue }
            lastPersist[c.channelID] = i
            if firstPersist == nil { firstPersist = i }
        }
        precondition(entry == nil || !lastPersist.isEmpty, "a journal entry rides only on an HTLC state write")
        for (i, action) in actions.enumerated() {
            if i == firstPersist, !step.effects.isEmpty {
                enqueue(step) // ahead of the writes (no write of its own)
                step = StepBuilder()
            }
            switch action {
            case .invoicePaid(let hash, let amount, let channel):
                paid[channel, default: []].append(InvoicePayment(paymentHash: hash, amount: Amount(amount), channelID: channel, atMillis: now()))
            case .originResolved(let outcome, let channel):
                resolved[channel, default: []].append(outcome)
            case .persist(let c):
                guard lastPersist[c.channelID] == i else { continue }
                var stored = c.stored
                stored.paidInvoices = paid.removeValue(forKey: c.channelID) ?? []
                stored.routeOutcomes = resolved.removeValue(forKey: c.channelID) ?? []
                if let e = entry { stored.payments = [e]; entry = nil }
                step.cold.append((c.channelID, .htlc(stored)))
                step.effects.append(.htlcStored(c.channelID))
                if !stored.routeOutcomes.isEmpty { step.effects.append(.routeOutcomes) }
                if c.role == .payer, c.htlcs.isEmpty, let v = c.lastUpdate, v.locks == nil { idle.append(v) }
            case .send(let m, let peer): step.effects.append(.send(peer, m))
            case .awaitTakeOver(let next, let incoming): step.effects.append(.awaitTakeOver(next, incoming: incoming))
            case .notify(let e): step.effects.append(.htlc(e))
            }
        }
        // An outcome whose voucher could not be signed (nonces exhausted): written with the state as it is.
        for (id, outcomes) in resolved {
            guard var stored = htlcs.channels[id]?.stored else { continue }
            stored.routeOutcomes = outcomes
            step.cold.append((id, .htlc(stored)))
            step.effects.append(.routeOutcomes)
        }
        enqueue(step)
        for v in idle { handBack(v, to: htlcs.channels[v.channelID]?.peer ?? me) }
        scheduleSweep()
    }

    /// Origin outcomes are durable: the payment journal looks again (`RoutedPayments.run`).
    func routeOutcomesStored() { routeOutcomeChanges.signal() }

    /// A channel's HTLC state is durable: calls waiting on it look again.
    func htlcStored(_ id: ChannelID) {
        wakeWaiters(channel: id)
        if events.hasSubscribers { events.publish(.htlcChannel(id)) }
    }

    /// An HTLC event, once what it reports is durable.
    func handle(_ e: HTLCEvent) {
        if events.hasSubscribers { events.publish(.htlc(e)) }
        switch e {
        case .paymentSucceeded(let hash, let preimage, let amount, let fees):
            finishRoutePayment(hash, .succeeded(paymentHash: hash, preimage: preimage, amount: amount, fees: fees))
        case .paymentFailed(let hash, let hop, let node, let code):
            finishRoutePayment(hash, .failed(paymentHash: hash, hopIndex: hop, node: node, code: code))
        case .paymentReceived(let hash, let amount, let channel):
            logger.info("HTLC payment received", metadata: ["hash": "\(hash)", "amount": "\(amount)", "channel": "\(channel)"])
        case .forwarded(let hash, let incoming, let outgoing, let fee):
            logger.info("HTLC forwarded", metadata: ["hash": "\(hash)", "in": "\(incoming.channelID)", "out": "\(outgoing.channelID)",
                                                     "fee": "\(fee)"])
        case .refused(let peer, let code, let detail):
            logger.notice("HTLC message refused", metadata: ["peer": "\(peer)", "code": "\(code.rawValue)", "detail": "\(detail)"])
        }
    }

    private func finishRoutePayment(_ hash: Hash32, _ result: RoutePaymentResult) {
        guard let channel = routePayments[hash] else { return } // nobody waits (timed out, or before a restart)
        routeResults[hash] = result
        wakeWaiters(channel: channel)
    }

    // MARK: Sweeper and reconnection

    /// One deadline of the queue at the book's earliest pending expiry.
    func scheduleSweep() {
        guard let expiry = htlcs.nextDeadline, htlcSweepAt.map({ expiry < $0 }) ?? true else { return }
        htlcSweepAt = expiry
        let now = now()
        schedule(.htlcSweep, at: instant(afterMillis: expiry > now ? expiry - now : 0))
    }

    func sweepHTLCs() {
        htlcSweepAt = nil
        perform(htlcs.onTimer(now: now()))
        scheduleSweep()
    }

    /// A peer's link came up: answers it owes for its channels are repeated (§12.4).
    func resumeHTLCs(with peer: EthereumAddress) { perform(htlcs.resume(peer: peer, now: now())) }

    /// At start: every channel the store keeps HTLC state for (§12.4), and every open invoice.
    func restoreHTLCs() throws(StoreError) {
        for s in try store.loadHTLCChannels() {
            guard let snapshot = book.snapshot(s.channelID) else { continue }
            htlcs.restore(HTLCChannel(restoring: s, terms: snapshot.terms, role: snapshot.role))
        }
        let now = now()
        for r in try store.loadInvoices() where r.paid == nil && now < r.expiresAtMillis {
            htlcs.addInvoice(Self.htlcInvoice(r))
        }
    }

    static func htlcInvoice(_ r: InvoiceRecord) -> HTLCInvoice {
        HTLCInvoice(preimage: r.preimage, amount: r.amount?.atomicUnits, asset: r.asset, expiresAt: r.expiresAtMillis)
    }

    // MARK: Invoices (payee)

    /// Stores `invoice` (its preimage durable first), then lets the final hop fulfil it.
    public func addInvoice(_ invoice: InvoiceRecord) async throws(NodeError) {
        guard htlcs.invoices.count < HTLCInvoice.maxOpen else {
            throw .paymesh(.rateLimited, "\(HTLCInvoice.maxOpen) invoices are open; wait for some to be paid or expire")
        }
        do { try await store.insertInvoice(invoice) } catch { throw .paymesh(.internalError, "storing the invoice failed: \(error)") }
        htlcs.addInvoice(Self.htlcInvoice(invoice))
    }

    /// Every invoice this node made (`invoice.list`), as stored: paid ones with their payment.
    public func invoiceRecords() throws(NodeError) -> [InvoiceRecord] {
        do { return try store.loadInvoices() } catch { throw .paymesh(.internalError, "reading invoices failed: \(error)") }
    }

    // MARK: Paying over a route (origin, §12.5)

    /// Pays `amount` to the last hop of `route` (spontaneous: the preimage travels in the onion) and
    /// returns once the payment succeeded or failed, or throws when `timeoutMillis` passes first.
    public func payRoute(_ route: [RouteHop], amount: UInt128, timeoutMillis: UInt64 = 30_000) async throws(NodeError) -> RoutePaymentResult {
        let preimage = try! Hash32(random.bytes(32)) // 32 bytes
        return try await payRoute(route, amount: amount, paymentHash: HTLCBook.hash(preimage), preimage: preimage, timeoutMillis: timeoutMillis)
    }

    /// A fresh 32-byte secret from the node's injected randomness (a spontaneous payment's preimage).
    public func randomPreimage() -> Hash32 { try! Hash32(random.bytes(32)) } // 32 bytes

    /// Pays `amount` over `route` for `paymentHash`: with `preimage` a spontaneous payment (it
    /// travels in the final payload), without it an invoice's (the payee knows the preimage). The
    /// final HTLC expires `finalExpiryMillis` after now (nil: the book's default). `journalEntry`, the
    /// payer's journal entry recording this attempt, is written in the same commit as the first HTLC's
    /// state, before the HTLC is sent (Specs/routing.md §8 step 5); not written when this throws before
    /// anything was sent.
    public func payRoute(_ route: [RouteHop], amount: UInt128, paymentHash hash: Hash32, preimage: Hash32?,
                         finalExpiryMillis: UInt64? = nil, timeoutMillis: UInt64 = 30_000,
                         journalEntry: StoredPayment? = nil) async throws(NodeError) -> RoutePaymentResult {
        guard let first = route.first else { throw .paymesh(.noRouteFound, "empty route") }
        guard payers[first.channelID] != nil else { throw Self.channelNotFound(first.channelID) }
        // An HTLC_PROPOSE to a peer without a payments stream would be lost until its expiry.
        guard links[first.node] != nil else { throw .paymesh(.temporaryChannelFailure, "peer \(first.node) is offline (no payments stream)") }
        LatencyTrace.mark("payRoute.begin")
        let token = try admitWaiter()
        defer { waiters.release(token) }
        try await takeOverWhenAcknowledged(first.channelID, token: token,
                                           until: instant(afterMillis: min(timeoutMillis, configuration.htlcTakeOverWaitMillis)))
        let htlcID = try! HTLCID(random.bytes(16)) // 16 bytes
        var sessionKey: Secp256k1.PrivateKey?
        while sessionKey == nil { sessionKey = try? Secp256k1.PrivateKey(rawRepresentation: random.bytes(32)) }
        let actions = try htlcs.send(route: route, amount: amount, paymentHash: hash, preimage: preimage, htlcID: htlcID,
                                     sessionKey: sessionKey!, now: now(), finalExpiryMillis: finalExpiryMillis)
        LatencyTrace.mark("payRoute.sent-to-book")
        routePayments[hash] = first.channelID
        defer {
            routePayments[hash] = nil
            routeResults[hash] = nil
        }
        perform(actions, entry: journalEntry)
        let deadline = instant(afterMillis: timeoutMillis)
        while true {
            if let result = routeResults[hash] { LatencyTrace.mark("payRoute.result"); return result }
            switch await wait(token, channels: [first.channelID], until: deadline) {
            case .event: continue
            case .deadline:
                throw .paymesh(.htlcTimeout, "no answer for payment \(hash) within \(timeoutMillis) ms; its HTLCs unlock at their expiry")
            case .shutdown: throw .shuttingDown()
            }
        }
    }

    /// Every HTLC of the node (`htlc.list`).
    public func htlcEntries() -> [HTLCEntry] { htlcs.entries }

    /// A channel's HTLC state while the book owns its voucher sequence (nil otherwise).
    public func htlcChannel(_ id: ChannelID) -> HTLCChannel? { htlcs.channels[id] }
}

extension PaymentsService {
    /// This node's onion key (its secp256k1 identity key, Specs/onion.md §1): what a route names it by.
    public nonisolated var nodeKey: Secp256k1.PublicKey { key.publicKey }

    /// The HTLC limits and forwarding terms of this node (Specs/channels.md §12.9).
    public nonisolated var htlcPolicy: HTLCPolicy { configuration.htlcPolicy }
}
