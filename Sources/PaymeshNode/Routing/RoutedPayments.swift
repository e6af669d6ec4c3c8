public import PaymeshCrypto
public import PaymeshMessages
public import PaymeshRouting
import PaymeshGossip
import PaymeshPay402
import PaymeshStore

/// Payments to any node of the mesh over routes this node finds itself (issue 10; Specs/routing.md,
/// invoice.md, console.md "Routed payments"): invoices with durable preimages (payee), and paying
/// an invoice or a node (payer) over the best route of this node's gossip graph, alternatives
/// tried in order, every attempt recorded in the payment journal (durable before its HTLC is sent)
/// and in the node's reputation tracker. A thin driver: path search, reputation and the journal
/// are PaymeshRouting's value types; HTLCs are `PaymentsService.payRoute`'s.
public actor RoutedPayments {
    /// Limits (named, with where they come from).
    public struct Limits: Sendable {
        /// Routes asked of one search (`findRoutes` k, issue 10: "alternative routes tried in order").
        public var routesPerSearch = 3
        /// An invoice's `expiry` when `invoice.create` names none: one hour.
        public var defaultInvoiceExpiryMillis: UInt64 = 3_600_000
        /// The final hop's expiry delta this node asks for in its invoices and spontaneous payments
        /// (invoice.md `min_final_expiry`, routing.md §3.1's default).
        public var minFinalExpiryMillis: UInt64 = RouteQuery.defaultFinalExpiryDeltaMillis
        /// How long past the first HTLC's expiry a payer waits for an attempt's outcome before it
        /// reports the payment as still pending (the origin's sweeper answers at that expiry).
        public var outcomeGraceMillis: UInt64 = 60_000
        public init() {}
    }

    let payments: PaymentsService
    let gossip: GossipService
    public let limits: Limits
    public let parameters: RoutingParameters
    private var journal: PaymentJournal
    private var reputation: ReputationTracker
    /// Payments a `pay` call is routing now: the resolver leaves them to it.
    private var active: Set<PaymentJournal.PaymentID> = []
    /// Payments answered as succeeded whose final journal state is not durable yet (its write is on
    /// its way, or was refused and is retried by the resolver): the resolver keeps their route
    /// outcomes, the durable record of their success, until it is (Specs/routing.md §6.2).
    private var finishing: [PaymentJournal.PaymentID: FinalWrite] = [:]
    enum FinalWrite { case onItsWay, refused }

    /// The metadata key of the persisted reputation (Specs/storage.md "Reputation").
    public static let reputationKey = "routing.reputation"

    /// Builds the driver over a running node's payments and gossip and restores the journal from
    /// the store (a payment id retried after a restart still finds its payment).
    public init(payments: PaymentsService, gossip: GossipService, limits: Limits = Limits(),
                parameters: RoutingParameters = RoutingParameters()) throws(NodeError) {
        self.payments = payments
        self.gossip = gossip
        self.limits = limits
        self.parameters = parameters
        do {
            if let stored = try payments.store.metadata(forKey: Self.reputationKey) {
                reputation = try ReputationTracker(decoding: stored, parameters: parameters)
            } else {
                reputation = ReputationTracker(parameters: parameters)
            }
        } catch {
            throw .configuration("the reputation record (\(Self.reputationKey)) in \(payments.store.path) does not read back: \(error)")
        }
        var restored = PaymentJournal()
        do {
            // Rows of the HTTP fetch journal share the table (Specs/http402.md §11.4); they are `HTTPFetcher`'s.
            for stored in try payments.store.loadPayments() where !stored.id.starts(with: FetchJournal.rowPrefix) {
                restored.restore(try PaymentRecord.decode(stored))
            }
        } catch {
            throw .configuration("the payment journal in \(payments.store.path) does not read back: \(error)")
        }
        journal = restored
    }

    public nonisolated var id: EthereumAddress { payments.key.address }
    /// Unix ms on the node's injected clock.
    public nonisolated func now() -> UInt64 { payments.now() }

    // MARK: Invoices (payee)

    /// Makes an invoice: a fresh preimage from the node's injected randomness, stored durably with
    /// the signed invoice before the invoice is returned. The preimage is never logged.
    public func createInvoice(amount: Amount?, asset: Asset, memo: String, expiryMillis: UInt64?) async throws(NodeError) -> InvoiceRecord {
        let preimage = await payments.randomPreimage()
        let hash = try! Hash32(SHA256.hash(preimage.bytes)) // 32 bytes
        let now = now()
        let invoice: Invoice
        let text: String
        do {
            invoice = try Invoice(payee: id, paymentHash: hash, amount: amount, asset: asset, memo: memo, created: now,
                                  expiryMillis: expiryMillis ?? limits.defaultInvoiceExpiryMillis,
                                  minFinalExpiryMillis: limits.minFinalExpiryMillis)
            text = try invoice.encoded(signedBy: payments.key)
        } catch { throw .invalidParams("\(error)") }
        let record = InvoiceRecord(paymentHash: hash, preimage: preimage, invoice: text, amount: amount, asset: asset, memo: memo,
                                   createdMillis: now, expiresAtMillis: invoice.expiresAt)
        try await payments.addInvoice(record)
        return record
    }

    /// Every invoice this node made, newest first.
    public func invoices() async throws(NodeError) -> [InvoiceRecord] {
        try await payments.invoiceRecords().reversed()
    }

    // MARK: Paying (payer)

    /// Pays the invoice `text` (its amount, or `amount` for an invoice without one).
    public func pay(invoice text: String, amount: Amount? = nil, id: PaymentJournal.PaymentID? = nil,
                    maxFee: Amount? = nil) async throws(NodeError) -> PaymentJournal.Payment {
        let invoice: Invoice
        do { invoice = try Invoice.decodeSigned(text).0 } catch { throw .invalidParams("\(error)") }
        guard invoice.payee != self.id else { throw .invalidParams("the invoice is this node's own") }
        // A retried call finds its payment even once the invoice has expired.
        if let existing = journal.payment(id ?? PaymentJournal.PaymentID(invoice.paymentHash)), existing.paymentHash == invoice.paymentHash {
            return existing
        }
        guard now() < invoice.expiresAt else {
            throw .paymesh(.invoiceExpired, "the invoice expired at \(invoice.expiresAt) (unix ms); nothing was sent")
        }
        if let fixed = invoice.amount, let amount, amount != fixed {
            throw .invalidParams("the invoice asks for \(fixed), not \(amount)")
        }
        guard let value = invoice.amount ?? amount else { throw .invalidParams("the invoice names no amount: give amount") }
        return try await pay(Target(payee: invoice.payee, amount: value, asset: invoice.asset, paymentHash: invoice.paymentHash,
                                    preimage: nil, finalExpiryMillis: invoice.minFinalExpiryMillis, hints: invoice.hintEdges),
                             id: id, maxFee: maxFee)
    }

    /// Pays `amount` of `asset` to `payee` spontaneously: this node draws the preimage, which travels
    /// to the final hop only, inside the onion's final payload (Specs/onion.md §6 `p`).
    public func pay(to payee: EthereumAddress, amount: Amount, asset: Asset, id: PaymentJournal.PaymentID? = nil,
                    maxFee: Amount? = nil) async throws(NodeError) -> PaymentJournal.Payment {
        guard payee != self.id else { throw .invalidParams("cannot pay this node itself") }
        guard amount > .zero else { throw .paymesh(.invalidAmount, "amount must be positive") }
        // A retried call with the same id finds its payment before a new preimage is drawn.
        if let id, let existing = journal.payment(id) {
            guard existing.payee == payee, existing.amount == amount else { throw .paymesh(.paymentIDConflict, "payment id \(id) is used for another payment") }
            return existing
        }
        let preimage = await payments.randomPreimage()
        return try await pay(Target(payee: payee, amount: amount, asset: asset, paymentHash: try! Hash32(SHA256.hash(preimage.bytes)),
                                    preimage: preimage, finalExpiryMillis: limits.minFinalExpiryMillis, hints: []),
                             id: id, maxFee: maxFee)
    }

    public func payment(_ id: PaymentJournal.PaymentID) -> PaymentJournal.Payment? { journal.payment(id) }

    /// Every payment, newest first.
    public func paymentList() -> [PaymentJournal.Payment] { journal.list }

    /// This node's reputation figures per node and channel, decayed to now (routing.md §5.3).
    public func reputationSnapshot() -> (now: UInt64, nodes: [(EthereumAddress, ReputationScore)], channels: [(ChannelID, ReputationScore)]) {
        let now = now()
        let s = reputation.snapshot(now: now)
        return (now, s.nodes, s.channels)
    }

    /// Candidate routes to `payee` priced with this node's reputation (a dry run: `route.find`).
    public func findRoutes(to payee: EthereumAddress, amount: Amount, asset: Asset, count: Int,
                           parameters: RoutingParameters? = nil) async throws(RoutingError) -> [Route] {
        let (network, now) = await gossip.graphSnapshot()
        let query = RouteQuery(source: id, target: payee, amount: amount, now: now, finalExpiryDeltaMillis: limits.minFinalExpiryMillis)
        return try RoutingGraph(network, asset: asset).findRoutes(query, count: count, reputation: reputation,
                                                                    parameters: parameters ?? self.parameters)
    }
}

extension RoutedPayments {
    struct Target {
        let payee: EthereumAddress
        let amount: Amount
        let asset: Asset
        let paymentHash: Hash32
        let preimage: Hash32?
        let finalExpiryMillis: UInt64
        let hints: [RoutingGraph.Edge]
    }

    /// Codes with which the payee itself refuses the payment: no other route helps (routing.md §5.1).
    static let payeeCodes: Set<PaymeshErrorCode> = [.unknownPaymentHash, .finalIncorrectAmount, .finalIncorrectExpiry]

    /// Starts (or finds) the journal entry, writes it, then tries routes until one succeeds, the
    /// payee refuses, no route is left or the journal's attempts are used up.
    private func pay(_ t: Target, id given: PaymentJournal.PaymentID?, maxFee: Amount?) async throws(NodeError) -> PaymentJournal.Payment {
        LatencyTrace.mark("pay.begin")
        defer { LatencyTrace.mark("pay.end") }
        let id = given ?? PaymentJournal.PaymentID(t.paymentHash)
        let begun: PaymentJournal.Begin
        do { begun = try journal.begin(id: id, paymentHash: t.paymentHash, payee: t.payee, amount: t.amount, now: now()) } catch {
            throw .paymesh(.paymentIDConflict, "\(error)")
        }
        guard case .started = begun else { if case .existing(let p) = begun { return p }; preconditionFailure() }
        active.insert(id)
        defer { active.remove(id) }
        // The new entry is written with its first attempt, in the same commit as that attempt's first
        // HTLC state (before the HTLC is sent), or with its failure when no route is found or the
        // attempt is refused locally (Specs/routing.md §8).
        var queue: [Route] = []
        var lastReason = "no route"
        while true {
            let payment = journal.payment(id)!
            if payment.attempts.count >= journal.limits.maxAttempts { lastReason = "\(journal.limits.maxAttempts) attempts failed; last: \(lastReason)"; break }
            let failed = journal.failedChannels(id)
            queue.removeAll { !failed.isDisjoint(with: $0.channelIDs) }
            if queue.isEmpty {
                LatencyTrace.mark("search.begin")
                defer { LatencyTrace.mark("search.end") }
                do throws(RoutingError) { queue = try await search(t, excluding: failed, maxFee: maxFee) } catch {
                    lastReason = payment.attempts.isEmpty ? error.description : "\(error.description); last failure: \(lastReason)"
                    break
                }
            }
            let route = queue.removeFirst()
            let (network, _) = await gossip.graphSnapshot()
            guard let hops = Self.routeHops(route, network) else {
                // A hop without a node announcement (no onion key): this route cannot be built.
                lastReason = "no onion key known for a node of route \(route.channelIDs)"
                if queue.isEmpty { break } else { continue }
            }
            let attempt: Int
            do { attempt = try journal.startAttempt(id, route: route, now: now()) } catch { lastReason = "\(error)"; break }
            let entry = try encoded(id)
            let started = now()
            let result: RoutePaymentResult
            do throws(NodeError) {
                let wait = (route.expiry > started ? route.expiry - started : 0) + limits.outcomeGraceMillis
                result = try await payments.payRoute(hops, amount: t.amount.atomicUnits, paymentHash: t.paymentHash, preimage: t.preimage,
                                                     finalExpiryMillis: route.hops.last!.expiry - min(route.hops.last!.expiry, started),
                                                     timeoutMillis: wait, journalEntry: entry)
            } catch {
                if error.paymeshCode == .htlcTimeout || error.consoleCode == NodeError.shuttingDown().consoleCode {
                    // The HTLC may still be in flight: the payment stays pending, never paid twice. (Written
                    // again: a stop before the HTLC was offered left the entry unwritten.)
                    try? await persist(id)
                    return journal.payment(id)!
                }
                // Refused locally before anything was sent (e.g. our first channel lacks the balance).
                try? journal.fail(id, attempt: attempt, hopIndex: nil, code: error.paymeshCode ?? .internalError, now: now())
                lastReason = "route \(attempt + 1) refused locally: \(error.detail)"
                try await persist(id)
                continue
            }
            let finished = now()
            let latency = finished - min(finished, started)
            switch result {
            case .succeeded(_, let preimage, _, _):
                try? journal.succeed(id, attempt: attempt, preimage: preimage, now: finished)
                reputation.record(.succeeded(latencyMillis: latency), route: route, now: finished)
                // Answered now: the fulfil's write (its route outcome with the preimage) is durable, so
                // the success is; the journal's final state follows off the caller's path (§6.2).
                writeFinalState(id)
                return journal.payment(id)!
            case .failed(_, let hop, let node, let code):
                try? journal.fail(id, attempt: attempt, hopIndex: hop, code: code, now: finished)
                // An HTLC that timed out names no hop that failed it: the route shares the blame.
                reputation.record(code == .htlcTimeout ? .unattributed : .failed(hopIndex: hop, code: code, latencyMillis: latency),
                                  route: route, now: finished)
                lastReason = "hop \(hop) (\(node)) failed with \(code)"
                let record = reputation.encoded(), store = payments.store
                async let reputationWritten: Void = Self.write(reputation: record, to: store)
                try await persist(id)
                await reputationWritten
                if hop == route.hops.count - 1, Self.payeeCodes.contains(code) {
                    return try await giveUp(id, "the payee refused the payment: \(code)")
                }
            }
        }
        return try await giveUp(id, lastReason)
    }

    private func giveUp(_ id: PaymentJournal.PaymentID, _ reason: String) async throws(NodeError) -> PaymentJournal.Payment {
        try? journal.giveUp(id, reason: reason, now: now())
        try await persist(id)
        return journal.payment(id)!
    }

    /// Up to `limits.routesPerSearch` routes over the gossip graph (plus route hints), cheapest
    /// first, priced with this node's reputation, avoiding the channels that failed this payment.
    private func search(_ t: Target, excluding failed: Set<ChannelID>, maxFee: Amount?) async throws(RoutingError) -> [Route] {
        let (network, now) = await gossip.graphSnapshot()
        var graph = RoutingGraph(network, asset: t.asset)
        for edge in t.hints { graph.add(edge) }
        graph.prepareForSearch()
        let query = RouteQuery(source: id, target: t.payee, amount: t.amount, now: now, finalExpiryDeltaMillis: t.finalExpiryMillis,
                               maxFee: maxFee, excludedChannels: failed)
        return try graph.findRoutes(query, count: limits.routesPerSearch, reputation: reputation, parameters: parameters)
    }

    /// The HTLC book's hops for `route`: each node's onion key from its node announcement (the
    /// identity key, onion.md §1), and as its terms exactly the fee and expiry delta the route
    /// priced (fee as a base, no ppm), so the book recomputes the route's amounts and expiries.
    static func routeHops(_ route: Route, _ network: NetworkGraph) -> [RouteHop]? {
        var hops: [RouteHop] = []
        for hop in route.hops {
            guard let key = network.nodes[hop.nodeID]?.announcement.onionKey, EthereumAddress(publicKey: key) == hop.nodeID else { return nil }
            hops.append(RouteHop(nodeKey: key, channelID: hop.channelID, feeBase: hop.fee.atomicUnits, feePPM: 0,
                                 expiryDeltaMillis: hop.expiryDeltaMillis))
        }
        return hops
    }

    /// The journal entry of `id` is durable before anything is sent for it.
    private func persist(_ id: PaymentJournal.PaymentID) async throws(NodeError) {
        LatencyTrace.mark("journal.persist.begin")
        defer { LatencyTrace.mark("journal.persist.end") }
        guard journal.payment(id) != nil else { return }
        do { try await payments.store.savePayment(try encoded(id)) } catch {
            throw .paymesh(.internalError, "writing the payment journal failed: \(error)")
        }
    }

    /// The stored form of `id`'s journal entry (a known id).
    private func encoded(_ id: PaymentJournal.PaymentID) throws(NodeError) -> StoredPayment {
        do { return try PaymentRecord.encode(journal.payment(id)!) } catch {
            throw .paymesh(.internalError, "journal entry does not encode: \(error)")
        }
    }

    /// The final state of a payment that succeeded, the deletion of its route outcome (taken) and the
    /// reputation, as one request enqueued from this turn without waiting: until it is durable the
    /// resolver keeps the outcome (a crash before then resolves the payment from it at the next
    /// start, §6.2); a refused write is made again by the next resolution.
    private func writeFinalState(_ id: PaymentJournal.PaymentID) {
        guard let payment = journal.payment(id), let entry = try? encoded(id) else { finishing[id] = .refused; return }
        finishing[id] = .onItsWay
        payments.store.enqueuePayment(entry, takingOutcomes: [payment.paymentHash], metadata: reputation.encoded(),
                                      forKey: Self.reputationKey) { result in
            let durable = if case .success = result { true } else { false }
            Task { await self.finalStateWritten(id, durable: durable) }
        }
    }

    private func finalStateWritten(_ id: PaymentJournal.PaymentID, durable: Bool) {
        finishing[id] = durable ? nil : .refused
    }
}

// MARK: Resolving payments nobody waits for (Specs/routing.md §6.2)

extension RoutedPayments {
    /// Keeps the journal resolved while the node runs: once at start, then every time origin
    /// outcomes become durable (the sweeper cancelled an HTLC, a fulfil or cancel came after its
    /// call gave up, or after a restart). Returns when the payments service stops.
    public func run() async {
        let changes = payments.routeOutcomeChanges.watch()
        await resolve()
        guard let changes else { return }
        for await _ in changes { await resolve() }
    }

    /// Resolves every pending payment no `pay` call is routing from the HTLC state: an outcome
    /// the origin recorded (fulfilled → succeeded with the preimage; cancelled or expired → the
    /// attempt failed and the payment given up), an HTLC still pending (left as it is, resolved
    /// when it is), or neither — its HTLC was never durable, so never sent: 1412, nothing paid.
    /// Outcomes the journal has taken, and those of no routed payment, are deleted.
    public func resolve() async {
        LatencyTrace.mark("resolve.begin")
        defer { LatencyTrace.mark("resolve.end") }
        let store = payments.store
        // Final states whose write was refused: written again (their outcomes are kept until they are).
        for (id, state) in finishing where state == .refused {
            do throws(NodeError) { try await persist(id); finishing[id] = nil } catch { continue }
        }
        let unattended = journal.list.filter { !$0.status.isFinal && !active.contains($0.id) }
        // HTLCs first, outcomes second: an HTLC dropped after the first read has its outcome
        // committed in the same write, so the second read sees it.
        let held: [StoredHTLCChannel]
        let outcomes: [RouteOutcome]
        do {
            held = try unattended.isEmpty ? [] : store.loadHTLCChannels()
            outcomes = try store.loadRouteOutcomes()
        } catch { return }
        let inFlight = Set(held.flatMap(\.htlcs).filter { $0.side == .offered && $0.state == .pending && $0.link == nil }.map(\.paymentHash))
        let byHash = Dictionary(outcomes.map { ($0.paymentHash, $0) }, uniquingKeysWith: { $0.atMillis >= $1.atMillis ? $0 : $1 })
        var taken: [Hash32] = []
        var changed = false
        for listed in unattended {
            // Another resolution may have finished it while this one waited for a write.
            guard let payment = journal.payment(listed.id), !payment.status.isFinal else { continue }
            let attempt = payment.inFlight
            let since = attempt.map { payment.attempts[$0].startedAt } ?? payment.createdAt
            let now = now()
            if let o = byHash[payment.paymentHash], o.atMillis >= since, let attempt {
                let route = payment.attempts[attempt].route
                if let preimage = o.preimage {
                    try? journal.succeed(payment.id, attempt: attempt, preimage: preimage, now: o.atMillis)
                    reputation.record(.succeeded(latencyMillis: o.atMillis - since), route: route, now: now)
                } else {
                    let code = o.code ?? .htlcRoutingFailed
                    try? journal.fail(payment.id, attempt: attempt, hopIndex: o.hopIndex, code: code, now: o.atMillis)
                    var attributed = AttemptOutcome.unattributed
                    if let hop = o.hopIndex { attributed = .failed(hopIndex: hop, code: code, latencyMillis: o.atMillis - since) }
                    reputation.record(attributed, route: route, now: now)
                    let at = o.hopIndex.map { "hop \($0)\(o.node.map { " (\($0))" } ?? "")" } ?? "the route (unattributed)"
                    try? journal.giveUp(payment.id, reason: "\(at) failed with \(code) after the call stopped waiting", now: now)
                }
            } else if inFlight.contains(payment.paymentHash) {
                continue // resolved when its HTLC is
            } else if let attempt {
                try? journal.fail(payment.id, attempt: attempt, hopIndex: nil, code: .paymentInterrupted, now: now)
                try? journal.giveUp(payment.id, reason: "interrupted before its HTLC was sent (\(PaymeshErrorCode.paymentInterrupted)); nothing was paid", now: now)
            } else {
                try? journal.giveUp(payment.id, reason: "interrupted between attempts (\(PaymeshErrorCode.paymentInterrupted)); nothing is in flight", now: now)
            }
            changed = true
            do throws(NodeError) { try await persist(payment.id) } catch { continue }
        }
        // Outcomes of finished payments, and of HTLCs no routed payment sent (`pay.route`).
        for o in outcomes {
            guard let id = journal.id(forHash: o.paymentHash), let p = journal.payment(id) else { taken.append(o.paymentHash); continue }
            if p.status.isFinal, finishing[id] == nil { taken.append(o.paymentHash) }
        }
        if changed { await persistReputation() }
        try? await store.deleteRouteOutcomes(taken)
    }

    /// The reputation record (bounded, Specs/storage.md "Reputation"); a failed write is retried
    /// at the next attempt's end (the tracker only advises path search).
    private func persistReputation() async { await Self.write(reputation: reputation.encoded(), to: payments.store) }

    private static func write(reputation bytes: [UInt8], to store: ChannelStore) async {
        try? await store.setMetadata(bytes, forKey: reputationKey)
    }
}
