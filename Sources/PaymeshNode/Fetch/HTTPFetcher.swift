import PaymeshCrypto
public import PaymeshMessages
import PaymeshPay402
import PaymeshRouting
import PaymeshStore

/// The buying side of HTTP 402 (Specs/http402.md §11; console `http.fetch`, `paymesh fetch`): makes
/// the request, reads a 402 answer (`PaymentOffers`), chooses what it can pay (`PaymentChoice`:
/// the channel scheme through an existing channel to the payee, or an L402 invoice over a route),
/// pays within the caller's maximum and the spending policy, presents the proof and returns the
/// answer. Every request has an idempotency key kept in the payment journal (`FetchJournal`,
/// durable before each step it guards), so a request retried with its key — also after a crash of
/// this node — never pays twice. A thin driver: parsing, choice and journal rules are PaymeshPay402's.
public actor HTTPFetcher {
    public struct Limits: Sendable {
        /// Largest answer body read (the console carries it as one JSON line).
        public var maxResponseBytes = 4 * 1_024 * 1_024
        /// Largest request body sent.
        public var maxRequestBytes = 1_024 * 1_024
        /// L402 tokens kept (per origin and first path segment), until their `valid_until`.
        public var maxCachedTokens = 256
        /// Requests in flight at once; beyond it `http.fetch` is refused with 1504 RATE_LIMITED.
        public var maxInFlight = 64
        /// How long a channel opened for a request (§11.3) may wait for the payee's answer.
        public var openTimeoutMillis: UInt64 = 15_000
        /// How long a request that needs a channel opened waits while one is being opened for
        /// another request (§11.3: reaching the payee, its answer, and that request's first
        /// payment through the channel); then 1487, nothing opened or paid.
        public var openWaitMillis: UInt64 = 90_000
        /// How long a request waits for its channel's presentation turn (§11.5: earlier requests'
        /// vouchers are answered first, each exchange bounded to 60 s); then 1487, nothing signed.
        public var turnWaitMillis: UInt64 = 120_000
        public init() {}
    }

    let payments: PaymentsService
    let routed: RoutedPayments?
    let exchange: any HTTPExchange
    public let limits: Limits
    private var journal = FetchJournal()
    private var tokens: [String: (authorization: String, validUntil: UInt64)] = [:]
    /// Keys of the requests in flight: a second call with one of them waits for nothing and pays nothing (1485).
    private var inFlight: Set<String> = []
    /// A channel is being proposed for a request (§11.3): one at a time, so the policy's deposit
    /// bounds are checked against every channel (the generation counts finished proposals).
    var openInFlight = false
    var openGeneration = 0
    /// The payee of the channel being proposed, while `openInFlight`.
    var openingPayee: EthereumAddress?
    /// Requests waiting for the open in flight to end, by ticket (at most `maxInFlight`): resumed
    /// by `openFinished`, or by their own deadline on the node's clock.
    var openWaiters: [UInt64: CheckedContinuation<Void, Never>] = [:]
    var openWaiterTickets: UInt64 = 0
    /// The presentation turns of payer channels (§11.5), and the requests waiting for one, by ticket.
    var turns: ChannelTurns
    var turnWaiters: [UInt64: CheckedContinuation<Bool, Never>] = [:]

    /// Restores the fetch entries of the payment journal (rows under `FetchJournal.rowPrefix`).
    public init(payments: PaymentsService, routed: RoutedPayments?, exchange: any HTTPExchange, limits: Limits = Limits()) throws(NodeError) {
        self.payments = payments
        self.routed = routed
        self.exchange = exchange
        self.limits = limits
        turns = ChannelTurns(capacity: limits.maxInFlight)
        do {
            for stored in try payments.store.loadPayments() where stored.id.starts(with: FetchJournal.rowPrefix) {
                guard let entry = try? FetchEntry.decode(stored.record) else { continue }
                journal.restore(entry)
            }
        } catch {
            throw .configuration("the payment journal in \(payments.store.path) does not read back: \(error)")
        }
    }

    public func fetch(_ request: FetchRequest) async throws(NodeError) -> FetchResult {
        let method = request.method.uppercased()
        guard ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"].contains(method) else {
            throw .invalidParams("method must be GET, HEAD, POST, PUT, PATCH or DELETE")
        }
        guard (request.body?.count ?? 0) <= limits.maxRequestBytes else { throw .invalidParams("body is over \(limits.maxRequestBytes) bytes") }
        let target = try Self.target(request.url)
        let key = request.idempotencyKey ?? payments.random.bytes(16).hexString
        do { try FetchJournal.checkKey(key) } catch { throw Self.nodeError(error) }
        let headers = request.headers.filter { !Self.reserved.contains($0.0.lowercased()) }
        guard !inFlight.contains(key) else { throw .paymesh(.fetchKeyConflict, "a request with idempotency key \(key) is in flight") }
        guard inFlight.count < limits.maxInFlight else { throw .paymesh(.rateLimited, "\(limits.maxInFlight) requests are in flight; retry") }
        inFlight.insert(key)
        defer { inFlight.remove(key) }

        if let entry = try journalEntry(key, method: method, url: request.url) {
            return try await resume(entry, request: request, target: target, headers: headers)
        }
        // 1. Unpaid (or with a cached L402 token for this origin and service).
        let tokenKey = Self.tokenKey(target)
        var first = headers
        var usedToken = false
        if let token = tokens[tokenKey], token.validUntil >= payments.now() / 1_000 {
            first.append(("Authorization", token.authorization))
            usedToken = true
        }
        let unpaid = try await send(method, target, first, request.body)
        guard unpaid.status == 402 else {
            return FetchResult(status: unpaid.status, headers: unpaid.headers, body: unpaid.body, key: key, paid: 0, asset: nil,
                               scheme: usedToken ? "l402" : nil, channel: nil, nonce: nil, receipt: nil, reused: usedToken)
        }
        if usedToken { tokens[tokenKey] = nil }
        // 2. What does it cost, and can we pay it?
        let offers: PaymentOffers
        do {
            offers = try PaymentOffers.parse(headers: unpaid.headers.map { HTTPHeaderField($0.0, $0.1) }, body: unpaid.body)
        } catch { throw Self.nodeError(error) }
        var invoice: Invoice?
        if let offer = offers.l402, let decoded = try? Invoice.decodeSigned(offer.invoice).0, decoded.paymentHash.bytes == offer.paymentHash {
            invoice = decoded
        }
        guard let maxInput = request.maxPrice else {
            var prices = offers.requirements.map { "\($0.amount) atomic units of \($0.asset) (\($0.scheme))" }
            if let invoice, let amount = invoice.amount { prices.append("an L402 invoice of \(amount.atomicUnits) atomic units of \(invoice.asset.id)") }
            throw .paymesh(.fetchPriceAboveMax, "payment required: \(prices.joined(separator: ", ")); give max_price to pay; nothing was paid")
        }
        let maxPrice = try Self.maxPrice(maxInput, offers: offers, invoice: invoice)
        var waitDeadline: NodeInstant?
        while true {
            let generation = openGeneration
            let channels = await payments.httpPayableChannels()
            let opening = await payments.httpOpening()
            // With a channel to open instead, an L402 invoice counts as payable only when a route to its payee is known now (§11.3).
            let l402Payable = await l402Routable(invoice, opening: opening)
            let choice: PaymentChoice
            do {
                choice = try PaymentChoice.choose(offers, maxPrice: maxPrice, channels: channels,
                                                  l402Price: l402Payable ? invoice?.amount?.atomicUnits : nil, l402Asset: invoice?.asset.id,
                                                  opening: opening)
            } catch {
                // Refused against a view holding a channel being proposed to this payee for another
                // request (its deposit counts against the bounds; once OPEN it may pay this one), or
                // a proposal ended since the view was taken: wait for it and choose again (§11.3).
                guard generation != openGeneration || (openInFlight && offers.requirements.contains { $0.payTo == openingPayee }) else {
                    throw Self.nodeError(error)
                }
                do { try await awaitOpenFinished(deadline: &waitDeadline) } catch { throw Self.asNodeError(error) }
                continue
            }
            switch choice {
            case .channel(let offered, let requirements, let channel):
                // The channel's turn from reading its next nonce until the gateway answered the voucher (§11.5).
                let turn = try await takeTurn(channel)
                var entry: FetchEntry
                let first: FetchResult
                do {
                    defer { passTurn(channel, turn) }
                    let nonce = try await payments.nextVoucherNonce(channel)
                    entry = FetchEntry(key: key, method: method, url: request.url, requirement: offered, requirements: requirements,
                                       channel: channel.description, nonce: nonce, now: payments.now())
                    try await save(entry)  // durable before anything is signed (§11.4)
                    if let timed = TimedPurchase(requirements, cap: maxPrice.amount) {
                        return try await buyTimed(&entry, timed, channel: channel, turn: turn, request: request, target: target, headers: headers)
                    }
                    first = try await signAndPresent(&entry, channel: channel, request: request, target: target, headers: headers)
                }
                guard let purchase = MeteredPurchase(requirements, cap: maxPrice.amount) else { return first }
                return try await buyMetered(first, purchase, entry: &entry, channel: channel, target: target, headers: headers)
            case .openChannel(let offered, let requirements, let deposit):
                // The view the bounds were checked against must include every channel proposed for a
                // request: while one is being proposed (or one ended since this choice), wait for it and
                // choose again — the channel opened for the other request may pay this one (§11.3).
                guard !openInFlight, generation == openGeneration else {
                    do { try await awaitOpenFinished(deadline: &waitDeadline) } catch { throw Self.asNodeError(error) }
                    continue
                }
                openInFlight = true
                openingPayee = offered.payTo
                do {
                    return try await openAndPay(offered, requirements, deposit: deposit, key: key, method: method, request: request,
                                                target: target, headers: headers, cap: maxPrice.amount)
                } catch { throw Self.asNodeError(error) }
            case .l402(let offer, let price):
                return try await payL402(offer, price: price, invoice: invoice!, key: key, request: request, target: target,
                                         headers: headers, tokenKey: tokenKey)
            }
        }
    }

    // MARK: The channel scheme

    /// Signs the first voucher of `entry` and makes its proof durable before it leaves (§11.4).
    private func signFirst(_ entry: inout FetchEntry, channel: ChannelID) async throws(NodeError)
        -> (voucher: PaymentUpdate, proof: HTTPHeaderField, requirements: PaymentRequirements, price: UInt128) {
        guard let requirements = entry.requirements, let price = UInt128(entry.price) else { throw .internalError("fetch entry unreadable") }
        let voucher = try await payments.signHTTPVoucher(channel, amount: price, taskID: entry.key)
        let proof = FetchEntry.proof(voucher, paying: requirements, x402Version: entry.x402Version)
        entry.nonce = String(voucher.nonce)
        entry.proofHeader = proof.name
        entry.proofValue = proof.value
        entry.status = .signed
        entry.updatedAt = payments.now()
        try await save(entry)  // the proof is durable before it leaves (§11.4)
        return (voucher, proof, requirements, price)
    }

    func signAndPresent(_ entry: inout FetchEntry, channel: ChannelID, request: FetchRequest, target: Target,
                                headers: [(String, String)]) async throws(NodeError) -> FetchResult {
        let voucher = try await signFirst(&entry, channel: channel).voucher
        return try await present(&entry, channel: channel, nonce: voucher.nonce, request: request, target: target, headers: headers, reused: false)
    }

    func present(_ entry: inout FetchEntry, channel: ChannelID, nonce: UInt64, request: FetchRequest, target: Target,
                         headers: [(String, String)], reused: Bool) async throws(NodeError) -> FetchResult {
        guard let name = entry.proofHeader, let value = entry.proofValue else { throw .internalError("fetch entry has no proof") }
        let answer = try await send(entry.method, target, headers + [(name, value)], request.body)
        entry.httpStatus = answer.status
        entry.updatedAt = payments.now()
        if answer.status == 402 {
            let code = Int(answer.header(Pay402Header.errorCode) ?? "") ?? 0
            let reason = (try? PaymentOffers.parse(headers: answer.headers.map { HTTPHeaderField($0.0, $0.1) }, body: answer.body))?.error
                ?? "no reason given"
            entry.code = code
            entry.reason = String(reason.prefix(256))
            if code == Int(PaymeshErrorCode.proofReplayed.rawValue) {
                // The gateway holds this voucher (or a later one) already: paid once; it does not serve twice.
                entry.status = .taken
                try await save(entry)
                await payments.httpVoucherAccepted(channel, nonce: nonce)
                throw .paymesh(.fetchAlreadyPaid, "the gateway already holds voucher \(nonce) of channel \(channel) for request \(entry.key) "
                               + "(\(entry.reason ?? "")); nothing was paid again")
            }
            if code == Int(PaymeshErrorCode.internalError.rawValue) || code == Int(PaymeshErrorCode.rateLimited.rawValue) {
                // The gateway did not keep the voucher (§10): the same proof may be presented again.
                try await save(entry)
                throw .paymesh(.fetchPaymentRefused, "the gateway did not take the payment now (\(entry.reason ?? "")); "
                               + "retry with idempotency key \(entry.key): the same voucher is presented again")
            }
            entry.status = .refused
            try await save(entry)
            throw .paymesh(.fetchPaymentRefused, "the gateway refused the payment: \(entry.reason ?? ""); voucher \(nonce) of channel \(channel) "
                           + "stays signed (the payee may still claim it)")
        }
        guard let receipt = answer.header(Pay402Header.paymentResponse) ?? answer.header(Pay402Header.xPaymentResponse) else {
            // Answered before any proof was read (404, 413, …): the voucher was not taken; it stays the request's proof.
            try await save(entry)
            return FetchResult(status: answer.status, headers: answer.headers, body: answer.body, key: entry.key, paid: 0, asset: entry.asset,
                               scheme: nil, channel: channel, nonce: nonce, receipt: nil, reused: reused)
        }
        entry.status = .paid
        entry.receipt = receipt
        try await save(entry)
        await payments.httpVoucherAccepted(channel, nonce: nonce)
        return FetchResult(status: answer.status, headers: answer.headers, body: answer.body, key: entry.key,
                           paid: UInt128(entry.price) ?? 0, asset: entry.asset, scheme: entry.scheme, channel: channel, nonce: nonce,
                           receipt: entry.receipt, reused: reused)
    }

    /// The rest of a metered answer (Specs/http402.md §12.4): each page the gateway offers is paid
    /// with a new voucher of exactly its price (`MeteredPurchase` checks it against the offered rate
    /// and the cap) and appended. Before a step's voucher is signed the journal entry holds the
    /// continuation token, the step, its price and nonce, the units received and the total paid;
    /// once signed, its proof — so a retry after a crash continues from there and pays no step twice.
    func buyMetered(_ first: FetchResult, _ purchase: MeteredPurchase, entry: inout FetchEntry, channel: ChannelID, target: Target,
                            headers: [(String, String)]) async throws(NodeError) -> FetchResult {
        guard first.paid > 0, first.status != 402 else { return first }  // the first step was not taken: nothing to continue
        var purchase = purchase
        let next = purchase.onPage(price: first.paid, headers: first.headers.map { HTTPHeaderField($0.0, $0.1) })
        return try await meter(first, &purchase, next: next, pending: false, entry: &entry, channel: channel, target: target, headers: headers)
    }

    /// The metered steps from `next` (or, `pending`, from the step the entry journals), then the result.
    private func meter(_ first: FetchResult, _ purchase: inout MeteredPurchase, next: MeteredPurchase.Next, pending: Bool,
                       entry: inout FetchEntry, channel: ChannelID, target: Target, headers: [(String, String)]) async throws(NodeError) -> FetchResult {
        var result = first, body = first.body, next = next, pending = pending, resuming = pending
        var stopped: String?
        loop: while true {
            if !pending {
                switch next {
                case .done: break loop
                case .stop(let why): stopped = why; break loop
                case .pay:
                    guard body.count < limits.maxResponseBytes else { stopped = "the answer reached \(limits.maxResponseBytes) bytes"; break loop }
                }
            }
            // Each step's voucher is signed and presented in its channel's turn (§11.5): its nonce is
            // read and journalled inside the turn, so it is the nonce of its own voucher.
            let turn = try await takeTurn(channel)
            let outcome: StepOutcome
            do {
                defer { passTurn(channel, turn) }
                if !pending, case .pay(let price, let token) = next {
                    entry.continueToken = token
                    entry.step = (entry.step ?? 0) + 1
                    entry.stepPrice = String(price)
                    entry.stepNonce = String(try await payments.nextVoucherNonce(channel))
                    entry.stepProofHeader = nil
                    entry.stepProofValue = nil
                    entry.units = String(purchase.units)
                    entry.unitsTotal = String(purchase.total)
                    entry.paidTotal = String(purchase.paid)
                    entry.cap = String(purchase.cap)
                    entry.updatedAt = payments.now()
                    try await save(entry)  // the continuation state is durable before the step's voucher is signed and sent
                }
                pending = false
                outcome = try await payStep(&entry, channel: channel, target: target, headers: headers, resuming: resuming)
            }
            let price = entry.stepPrice.flatMap { UInt128($0) } ?? 0
            resuming = false
            switch outcome {
            case .stopped(let why, let resumable, let paid):
                stopped = why
                purchase.resume(paid: purchase.paid + paid, units: purchase.units, total: purchase.total)
                if !resumable { entry.endSteps() }
                break loop
            case .page(let answer, let nonce, let receipt):
                body += answer.body
                result.nonce = nonce
                result.receipt = receipt
                entry.nonce = String(nonce)
                entry.receipt = receipt
                next = purchase.onPage(price: price, headers: answer.headers.map { HTTPHeaderField($0.0, $0.1) })
            }
        }
        if entry.stepProofHeader == nil { entry.endSteps() }
        entry.units = String(purchase.units)
        entry.unitsTotal = String(purchase.total)
        entry.paidTotal = String(purchase.paid)
        entry.updatedAt = payments.now()
        try await save(entry)
        let upstreamStatus = MeteredHeader.upstreamStatus.lowercased()
        result.status = first.headers.first { $0.0.lowercased() == upstreamStatus }.flatMap { Int($0.1) } ?? first.status
        let pageOnly = Set(["content-range", MeteredHeader.continue, MeteredHeader.nextPrice, MeteredHeader.units, MeteredHeader.unitsFrom].map { $0.lowercased() })
        result.headers = first.headers.filter { !pageOnly.contains($0.0.lowercased()) }
        result.body = body
        result.paid = purchase.paid
        result.unit = purchase.unit
        result.units = purchase.units
        result.unitsTotal = purchase.total
        result.partial = stopped
        return result
    }

    enum StepOutcome {
        case page(HTTPExchangeResponse, nonce: UInt64, receipt: String)
        /// `resumable`: the step's proof stays journalled (the exchange failed): a retry presents it again.
        /// `paid`: what the gateway took for the step without serving it (its voucher was taken before).
        case stopped(String, resumable: Bool, paid: UInt128 = 0)
    }

    /// Pays the step the entry journals: its voucher (signed now, or, `resuming`, found signed
    /// before a crash), made durable in the entry before it leaves, presented with the continuation token.
    private func payStep(_ entry: inout FetchEntry, channel: ChannelID, target: Target,
                         headers: [(String, String)], resuming: Bool) async throws(NodeError) -> StepOutcome {
        guard let token = entry.continueToken, let n = entry.step, let price = entry.stepPrice.flatMap({ UInt128($0) }),
              let nonce = entry.stepNonce.flatMap({ UInt64($0) }), var requirements = entry.requirements else {
            throw .internalError("fetch entry unreadable")
        }
        requirements.amount = price
        let taskID = "\(entry.key)#\(n)"
        if entry.stepProofHeader == nil {
            let voucher: PaymentUpdate
            let latest = resuming ? await payments.latestSignedVoucher(channel) : nil
            if !resuming {
                voucher = try await payments.signHTTPVoucher(channel, amount: price, taskID: taskID)
            } else if let latest, latest.taskID == taskID {
                voucher = latest  // signed before a crash, its proof not yet journalled (the task id names key and step)
            } else if (latest?.nonce ?? 0) < nonce {
                voucher = try await payments.signHTTPVoucher(channel, amount: price, taskID: taskID)  // never signed
            } else {
                // Signed and followed by other vouchers, or never signed: they cannot be told apart.
                return .stopped("the channel moved past voucher \(nonce) before step \(n) was recorded; nothing more is paid", resumable: false)
            }
            let proof = FetchEntry.proof(voucher, paying: requirements, x402Version: entry.x402Version)
            entry.stepNonce = String(voucher.nonce)
            entry.stepProofHeader = proof.name
            entry.stepProofValue = proof.value
            entry.updatedAt = payments.now()
            try await save(entry)  // the step's proof is durable before it leaves
        }
        guard let name = entry.stepProofHeader, let value = entry.stepProofValue, let signed = entry.stepNonce.flatMap({ UInt64($0) }) else {
            throw .internalError("fetch entry unreadable")
        }
        let answer: HTTPExchangeResponse
        do { answer = try await send(entry.method, target, headers + [(MeteredHeader.continue, token), (name, value)], nil) } catch {
            return .stopped("step \(n) failed: \(error.detail); retry with idempotency key \(entry.key) to present its voucher again", resumable: true)
        }
        let code = answer.header(Pay402Header.errorCode)
        if answer.status == 402, code == String(PaymeshErrorCode.proofReplayed.rawValue) {
            // The gateway took this step's voucher before (its page was lost with the crash): paid once, not served again.
            await payments.httpVoucherAccepted(channel, nonce: signed)
            return .stopped("the gateway already holds the voucher of step \(n) (its page was not received); nothing was paid again",
                            resumable: false, paid: price)
        }
        guard answer.status != 402, let receipt = answer.header(Pay402Header.paymentResponse) ?? answer.header(Pay402Header.xPaymentResponse) else {
            return .stopped("the gateway refused step \(n) (\(code ?? "HTTP \(answer.status)"))", resumable: false)
        }
        await payments.httpVoucherAccepted(channel, nonce: signed)
        entry.stepProofHeader = nil
        entry.stepProofValue = nil
        return .page(answer, nonce: signed, receipt: receipt)
    }

    /// A metered purchase the entry journals as able to go on (the node stopped between steps, or
    /// a step's exchange failed): the journalled step is paid with its journalled voucher (or
    /// signed now if it never was), then the purchase goes on; the result holds the pages received
    /// by this call, from unit `units_from`.
    private func resumeMetered(_ entry: inout FetchEntry, channel: ChannelID, target: Target,
                               headers: [(String, String)]) async throws(NodeError) -> FetchResult {
        guard let requirements = entry.requirements, let cap = entry.cap.flatMap({ UInt128($0) }),
              var purchase = MeteredPurchase(requirements, cap: cap) else { throw .internalError("fetch entry unreadable") }
        let units = entry.units.flatMap { UInt64($0) } ?? 0
        purchase.resume(paid: entry.paidTotal.flatMap { UInt128($0) } ?? 0, units: units, total: entry.unitsTotal.flatMap { UInt64($0) } ?? 0)
        let start = FetchResult(status: 206, headers: [], body: [], key: entry.key, paid: 0, asset: entry.asset, scheme: entry.scheme,
                                channel: channel, nonce: UInt64(entry.nonce), receipt: entry.receipt, reused: true)
        var result = try await meter(start, &purchase, next: .done, pending: true, entry: &entry, channel: channel, target: target, headers: headers)
        result.unitsFrom = units
        return result
    }

    /// A per-second answer (Specs/http402.md §12.6): the first step paid with the request, the
    /// answer read as it streams, and meanwhile one top-up per step on another connection while
    /// `TimedPurchase` allows (cap, offered rate). The journal entry is updated when the answer ends.
    /// The caller holds the channel's `turn` (§11.5): it is passed once the first step's head arrived
    /// (the gateway took its voucher), and each top-up takes the turn again.
    func buyTimed(_ entry: inout FetchEntry, _ purchase: TimedPurchase, channel: ChannelID, turn: UInt64, request: FetchRequest, target: Target,
                          headers: [(String, String)]) async throws(NodeError) -> FetchResult {
        let (voucher, proof, requirements, price) = try await signFirst(&entry, channel: channel)
        let (heads, headInput) = AsyncStream.makeStream(of: [HTTPHeaderField].self, bufferingPolicy: .bufferingNewest(1))
        let exchange = self.exchange, payments = self.payments, method = entry.method, key = entry.key, version = entry.x402Version
        let start = payments.nanos(), maxBytes = limits.maxResponseBytes
        let outcome = await Self.runTimed(purchase, price: price, fetcher: self, turn: turn, payments: payments, exchange: exchange, channel: channel,
                                          requirements: requirements, version: version, key: key, method: method, target: target,
                                          headers: headers, body: request.body, proof: proof, start: start, maxBytes: maxBytes,
                                          heads: heads, headInput: headInput)
        let topUps = outcome.1
        let answer: HTTPExchangeResponse
        switch outcome.0 {
        case .success(let a): answer = a
        case .failure(let error):
            throw .paymesh(.fetchFailed, "\(error.detail); voucher \(voucher.nonce) of channel \(channel) and \(topUps.steps) top-ups stay signed")
        }
        entry.httpStatus = answer.status
        guard answer.status != 402, let receipt = answer.header(Pay402Header.paymentResponse) ?? answer.header(Pay402Header.xPaymentResponse) else {
            entry.code = Int(answer.header(Pay402Header.errorCode) ?? "") ?? 0
            entry.status = .refused
            try await save(entry)
            throw .paymesh(.fetchPaymentRefused, "the gateway refused the first step (\(answer.header(Pay402Header.errorCode) ?? "HTTP \(answer.status)")); "
                           + "voucher \(voucher.nonce) of channel \(channel) stays signed (the payee may still claim it)")
        }
        await payments.httpVoucherAccepted(channel, nonce: voucher.nonce)
        entry.status = .paid
        entry.receipt = topUps.receipt ?? receipt
        entry.nonce = String(topUps.nonce ?? voucher.nonce)
        entry.units = String(topUps.purchase.secondsPaid)
        entry.paidTotal = String(topUps.purchase.paid)
        entry.updatedAt = payments.now()
        try await save(entry)
        let end = answer.header(TimedHeader.end)
        var result = FetchResult(status: answer.status, headers: answer.headers, body: answer.body, key: entry.key, paid: topUps.purchase.paid,
                                 asset: entry.asset, scheme: entry.scheme, channel: channel, nonce: topUps.nonce ?? voucher.nonce,
                                 receipt: entry.receipt, reused: false)
        result.unit = "second"
        result.units = topUps.purchase.secondsPaid
        result.servedMillis = answer.header(TimedHeader.servedMillis).flatMap(UInt64.init)
        if end != TimedEnd.complete.rawValue {
            result.partial = "the gateway ended the answer (\(end ?? "no Paymesh-End trailer"))" + (topUps.stopped.map { ": \($0)" } ?? "")
        }
        return result
    }

    /// The first request and the top-ups of a per-second answer, concurrently: the answer is read to
    /// its end while the top-ups run; when it ends the top-ups stop (cancelled).
    private static func runTimed(_ purchase: TimedPurchase, price: UInt128, fetcher: HTTPFetcher, turn: UInt64, payments: PaymentsService, exchange: any HTTPExchange,
                                 channel: ChannelID, requirements: PaymentRequirements, version: Int, key: String, method: String,
                                 target: Target, headers: [(String, String)], body: [UInt8]?, proof: HTTPHeaderField, start: UInt64,
                                 maxBytes: Int, heads: AsyncStream<[HTTPHeaderField]>,
                                 headInput: AsyncStream<[HTTPHeaderField]>.Continuation) async -> (Result<HTTPExchangeResponse, NodeError>, TimedTopUps) {
        // The top-ups run beside the first request and are cancelled (and awaited) when its answer ends.
        let topUps = Task {
            await Self.topUp(purchase, price: price, heads: heads, fetcher: fetcher, turn: turn, payments: payments, exchange: exchange, channel: channel,
                             requirements: requirements, version: version, key: key, method: method, target: target,
                             headers: headers, start: start)
        }
        // (A task group here crashed the node on Swift 6.3.1 — a null function pointer — so the top-ups are one
        // unstructured task, cancelled with the fetch and awaited before returning.)
        let answer = await withTaskCancellationHandler {
            await Self.firstStep(exchange, method: method, target: target, headers: headers + [(proof.name, proof.value)],
                                 body: body, maxBytes: maxBytes, heads: headInput)
        } onCancel: {
            topUps.cancel()
        }
        headInput.finish()
        topUps.cancel()
        return (answer, await topUps.value)
    }

    /// The first request of a per-second answer, read to its end; its head (unless a 402) goes to `heads` at once.
    private static func firstStep(_ exchange: any HTTPExchange, method: String, target: Target, headers: [(String, String)], body: [UInt8]?,
                                  maxBytes: Int, heads: AsyncStream<[HTTPHeaderField]>.Continuation) async -> Result<HTTPExchangeResponse, NodeError> {
        do {
            let answer = try await exchange.stream(method: method, host: target.url.host, port: target.url.port, target: target.path,
                                                   headers: headers, body: body, maxResponseBytes: maxBytes,
                                                   timeoutSeconds: Int64(TimedSessionBook.maxSeconds) + 60) { status, fields in
                if status != 402 { heads.yield(fields.map { HTTPHeaderField($0.0, $0.1) }) }
                heads.finish()
            }
            return .success(answer)
        } catch let error as NodeError {
            return .failure(error)
        } catch {
            return .failure(.internalError("\(error)"))
        }
    }

    struct TimedTopUps: Sendable {
        var purchase: TimedPurchase
        var steps = 0
        var nonce: UInt64?
        var receipt: String?
        var stopped: String?
    }

    /// The top-ups of one per-second answer, until `TimedPurchase` stops or the answer ends (cancelled).
    private static func topUp(_ purchase: TimedPurchase, price: UInt128, heads: AsyncStream<[HTTPHeaderField]>, fetcher: HTTPFetcher, turn: UInt64,
                              payments: PaymentsService,
                              exchange: any HTTPExchange, channel: ChannelID, requirements: PaymentRequirements, version: Int, key: String,
                              method: String, target: Target, headers: [(String, String)], start: UInt64) async -> TimedTopUps {
        var out = TimedTopUps(purchase: purchase)
        var head: [HTTPHeaderField]?
        for await h in heads { head = h; break }
        await fetcher.passTurn(channel, turn)  // the first voucher was answered (or the answer ended): the next may go
        guard let head else { return out }
        out.purchase.onHead(price: price, headers: head)
        while !Task.isCancelled {
            let elapsed = (payments.nanos() &- start) / 1_000_000
            switch out.purchase.next(elapsed: elapsed) {
            case .stop(let why):
                out.stopped = why
                return out
            case .wait(let until):
                do { try await payments.clock.sleep(until: NodeInstant(nanoseconds: start &+ until &* 1_000_000)) } catch { return out }
            case .pay(let next, let token):
                out.steps += 1
                var paying = requirements
                paying.amount = next
                guard let topUpTurn = try? await fetcher.takeTurn(channel) else {
                    out.stopped = "top-up \(out.steps) found its channel busy"
                    return out
                }
                guard let voucher = try? await payments.signHTTPVoucher(channel, amount: next, taskID: "\(key)#\(out.steps)") else {
                    await fetcher.passTurn(channel, topUpTurn)
                    out.stopped = "top-up \(out.steps) could not be signed"
                    return out
                }
                let proof = FetchEntry.proof(voucher, paying: paying, x402Version: version)
                let answer = try? await exchange.send(method: method, host: target.url.host, port: target.url.port, target: target.path,
                                                      headers: headers + [(MeteredHeader.continue, token), (proof.name, proof.value)], body: nil,
                                                      maxResponseBytes: 64 * 1_024)
                await fetcher.passTurn(channel, topUpTurn)
                let receipt = answer?.header(Pay402Header.paymentResponse) ?? answer?.header(Pay402Header.xPaymentResponse)
                let accepted = answer?.status == 200 && receipt != nil
                if accepted {
                    await payments.httpVoucherAccepted(channel, nonce: voucher.nonce)
                    out.nonce = voucher.nonce
                    out.receipt = receipt
                }
                out.purchase.onTopUp(price: next, accepted: accepted, headers: (answer?.headers ?? []).map { HTTPHeaderField($0.0, $0.1) })
            }
        }
        return out
    }

    /// A request whose key the journal knows (a retry, perhaps after a crash): never a second payment.
    private func resume(_ stored: FetchEntry, request: FetchRequest, target: Target, headers: [(String, String)]) async throws(NodeError) -> FetchResult {
        var entry = stored
        guard let channel = try? ChannelID(hex: entry.channel), let nonce = UInt64(entry.nonce) else { throw .internalError("fetch entry unreadable") }
        switch entry.status {
        case .opening:
            do { return try await continueOpening(&entry, channel: channel, request: request, target: target, headers: headers, cap: nil) } catch {
                throw Self.asNodeError(error)
            }
        case .paid where entry.continueToken != nil:
            return try await resumeMetered(&entry, channel: channel, target: target, headers: headers)
        case .paid:
            throw .paymesh(.fetchAlreadyPaid, "request \(entry.key) was paid (voucher \(nonce) of channel \(channel), HTTP \(entry.httpStatus ?? 0)); "
                           + "receipt \(entry.receipt ?? "none"); nothing was paid again")
        case .taken:
            throw .paymesh(.fetchAlreadyPaid, "the gateway already holds voucher \(nonce) of channel \(channel) for request \(entry.key); nothing was paid again")
        case .refused:
            throw .paymesh(.fetchPaymentRefused, "the gateway refused the payment of request \(entry.key): \(entry.reason ?? ""); nothing was paid again")
        case .signed:
            let turn = try await takeTurn(channel)
            defer { passTurn(channel, turn) }
            return try await present(&entry, channel: channel, nonce: nonce, request: request, target: target, headers: headers, reused: true)
        case .signing:
            // The crash came between the entry and the proof: the voucher at `nonce` is ours if it carries our key
            // (read in the channel's turn, §11.5: no other request signs meanwhile).
            let turn = try await takeTurn(channel)
            defer { passTurn(channel, turn) }
            let latest = await payments.latestSignedVoucher(channel)
            if let latest, latest.nonce == nonce, latest.taskID == entry.key, let requirements = entry.requirements {
                let proof = FetchEntry.proof(latest, paying: requirements, x402Version: entry.x402Version)
                entry.proofHeader = proof.name
                entry.proofValue = proof.value
                entry.status = .signed
                try await save(entry)
                return try await present(&entry, channel: channel, nonce: nonce, request: request, target: target, headers: headers, reused: true)
            }
            guard (latest?.nonce ?? 0) < nonce else {
                entry.status = .refused
                entry.reason = "the channel moved past voucher \(nonce) before it was recorded"
                try await save(entry)
                throw .paymesh(.fetchAlreadyPaid, "request \(entry.key): \(entry.reason!); nothing is paid again")
            }
            return try await signAndPresent(&entry, channel: channel, request: request, target: target, headers: headers)
        }
    }

    // MARK: L402

    private func payL402(_ offer: PaymentOffers.L402Offer, price: UInt128, invoice: Invoice, key: String, request: FetchRequest, target: Target,
                         headers: [(String, String)], tokenKey: String) async throws(NodeError) -> FetchResult {
        guard let routed else { throw .paymesh(.fetchNoPayableScheme, "this node has no routing (gossip is off): L402 cannot be paid") }
        // The routed journal is the idempotency record here: the payment id is the key (one payment per key and per hash).
        let id: PaymentJournal.PaymentID
        do { id = try PaymentJournal.PaymentID(Self.l402Prefix + Array(key.utf8)) } catch { throw .invalidParams("\(error)") }
        let payment = try await routed.pay(invoice: offer.invoice, id: id)
        guard case .succeeded(let preimage) = payment.status else {
            throw .paymesh(.fetchPaymentRefused, "the L402 invoice was not paid: \(payment.status)")
        }
        let authorization = L402Credential(macaroon: offer.macaroon, preimage: preimage.bytes).authorizationValue
        if tokens.count >= limits.maxCachedTokens, tokens[tokenKey] == nil, let oldest = tokens.min(by: { $0.value.validUntil < $1.value.validUntil }) {
            tokens[oldest.key] = nil
        }
        tokens[tokenKey] = (authorization, offer.validUntil ?? 0)
        let answer = try await send(request.method.uppercased(), target, headers + [("Authorization", authorization)], request.body)
        return FetchResult(status: answer.status, headers: answer.headers, body: answer.body, key: key, paid: price, asset: invoice.asset.id,
                           scheme: "l402", channel: nil, nonce: nil, receipt: nil, reused: false)
    }

    /// Whether the node may pay `invoice` over a route: it routes, and — when its policy could open
    /// a channel in the invoice's asset instead — the invoice carries route hints or a route to its
    /// payee is found in the graph now (a dry run, as `route.find`).
    private func l402Routable(_ invoice: Invoice?, opening: PaymentChoice.Opening) async -> Bool {
        guard let routed, let invoice else { return false }
        guard opening.policy.autoOpen[Asset.normalizedID(invoice.asset.id)] != nil, invoice.routeHints.isEmpty, let amount = invoice.amount else {
            return true
        }
        do {
            let routes = try await routed.findRoutes(to: invoice.payee, amount: amount, asset: invoice.asset, count: 1)
            return !routes.isEmpty
        } catch {
            return false
        }
    }

    // MARK: Helpers

    /// The routed payment id of an L402 fetch with key k: this prefix followed by k (a row of the
    /// routed journal, restored by `RoutedPayments`; not a fetch entry).
    static let l402Prefix = Array("l402-fetch:".utf8)

    /// Headers the caller may not set: the proofs (the node sets them) and the framing.
    static let reserved: Set<String> = ["x-payment", "payment-signature", "host", "content-length", "connection", "transfer-encoding"]

    struct Target: Sendable {
        var url: UpstreamURL
        /// Path and query as sent on the request line.
        var path: String
    }

    /// `http://<loopback host>:<port>[/path][?query]`; anything else is 1484.
    static func target(_ text: String) throws(NodeError) -> Target {
        guard text.utf8.count <= 8_192, text.hasPrefix("http://"), !text.contains(" "), !text.contains("#") else {
            throw .paymesh(.fetchURLRefused, "the URL must be http://<loopback host>:<port>/… (at most 8192 bytes, no fragment)")
        }
        let rest = text.dropFirst("http://".count)
        let authority = rest.prefix { $0 != "/" && $0 != "?" }
        guard let url = UpstreamURL("http://" + authority) else {
            throw .paymesh(.fetchURLRefused, "\(authority) is not a loopback host with a port: this node fetches from loopback only")
        }
        var path = String(rest.dropFirst(authority.count))
        if path.isEmpty || path.hasPrefix("?") { path = "/" + path }
        return Target(url: url, path: path)
    }

    static func tokenKey(_ t: Target) -> String {
        let segment = t.path.dropFirst().prefix { $0 != "/" && $0 != "?" }
        return "\(t.url.host):\(t.url.port)/\(segment)"
    }

    static func maxPrice(_ input: AmountInput, offers: PaymentOffers, invoice: Invoice?) throws(NodeError) -> PaymentChoice.MaxPrice {
        if input.isAtomic {
            do { return PaymentChoice.MaxPrice(amount: try input.atomicUnits(decimals: nil).atomicUnits, asset: nil) } catch {
                throw .invalidParams("max_price: \(error.detail)")
            }
        }
        // A decimal amount is read in the asset's decimals as the offer states them.
        let asset = input.assetID.map(Asset.normalizedID)
        let decimals = offers.requirements.first { asset == nil || Asset.normalizedID($0.asset) == asset }?.extra?.decimals
            ?? invoice.map { Int($0.asset.decimals) }
        guard let decimals, let d = UInt8(exactly: decimals) else {
            throw .invalidParams("max_price \(input.number): the offer names no decimals for it; give atomic units")
        }
        do { return PaymentChoice.MaxPrice(amount: try input.atomicUnits(decimals: d).atomicUnits, asset: asset) } catch {
            throw .invalidParams("max_price: \(error.detail)")
        }
    }

    private func journalEntry(_ key: String, method: String, url: String) throws(NodeError) -> FetchEntry? {
        do { return try journal.entry(key, method: method, url: url) } catch { throw Self.nodeError(error) }
    }

    func save(_ entry: FetchEntry) async throws(NodeError) {
        let id = FetchJournal.rowPrefix + Array(entry.key.utf8)
        let row = StoredPayment(id: id, paymentHash: try! Hash32(SHA256.hash(id)), createdMillis: entry.createdAt, record: entry.encoded())
        do { try await payments.store.savePayment(row) } catch {
            throw .internalError("the fetch journal was not stored: \(error); nothing was sent")
        }
        do { try journal.put(entry) } catch { throw Self.nodeError(error) }
    }

    private func send(_ method: String, _ t: Target, _ headers: [(String, String)], _ body: [UInt8]?) async throws(NodeError) -> HTTPExchangeResponse {
        do {
            return try await exchange.send(method: method, host: t.url.host, port: t.url.port, target: t.path, headers: headers, body: body,
                                           maxResponseBytes: limits.maxResponseBytes)
        } catch {
            throw .paymesh(.fetchFailed, "\(error.detail); a paid request may be retried with the same idempotency key")
        }
    }

    static func nodeError(_ e: Pay402Error) -> NodeError { .paymesh(e.code, e.detail) }
}
