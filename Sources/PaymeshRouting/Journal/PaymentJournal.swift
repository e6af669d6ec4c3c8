public import PaymeshCrypto
public import PaymeshMessages

/// Every outgoing payment and its attempts (Specs/routing.md §6): routes tried, fees, why each
/// attempt failed, and the payment's status. A value type the node persists; it decides
/// idempotency — a call retried with the same payment id never starts a second payment, and a
/// payment hash already paid is never paid again.
public struct PaymentJournal: Sendable, Hashable {
    /// A payment's id: chosen by the caller (the console's `id=`), or the payment hash.
    public struct PaymentID: Sendable, Hashable, Comparable, CustomStringConvertible {
        public let bytes: [UInt8]
        /// 1…64 bytes.
        public static let maxBytes = 64
        public init(_ bytes: [UInt8]) throws(RoutingError) {
            guard (1...Self.maxBytes).contains(bytes.count) else { throw .invalidQuery("payment id must be 1…\(Self.maxBytes) bytes") }
            self.bytes = bytes
        }
        public init(_ hash: Hash32) { bytes = hash.bytes }
        public static func < (l: Self, r: Self) -> Bool { l.bytes.lexicographicallyPrecedes(r.bytes) }
        public var description: String { "0x" + bytes.hexString }
    }

    public enum Status: Sendable, Hashable {
        /// Being paid: an attempt is in flight or the payer is choosing the next route.
        case pending
        case succeeded(preimage: Hash32)
        /// Given up, with the last reason.
        case failed(reason: String)

        public var isFinal: Bool { if case .pending = self { return false } else { return true } }
    }

    public struct Attempt: Sendable, Hashable {
        public enum Outcome: Sendable, Hashable {
            case inFlight
            case succeeded
            /// `hopIndex`: the node that reported it (0 = first hop), nil when unattributed.
            case failed(hopIndex: Int?, code: PaymeshErrorCode, node: EthereumAddress?)
        }
        public let route: Route
        public let startedAt: UInt64
        public internal(set) var finishedAt: UInt64?
        public internal(set) var outcome: Outcome
        /// Fees this attempt pays (every hop's fee), atomic units.
        public var fees: Amount { route.totalFees }

        /// An attempt (as recorded, or as stored: `PaymentJournal.restore`).
        public init(route: Route, startedAt: UInt64, finishedAt: UInt64?, outcome: Outcome) {
            self.route = route
            self.startedAt = startedAt
            self.finishedAt = finishedAt
            self.outcome = outcome
        }
    }

    public struct Payment: Sendable, Hashable {
        public let id: PaymentID
        public let paymentHash: Hash32
        public let payee: EthereumAddress
        public let amount: Amount
        public let createdAt: UInt64
        public internal(set) var status: Status
        public internal(set) var attempts: [Attempt]
        public internal(set) var finishedAt: UInt64?
        /// Fees paid: those of the attempt that succeeded (zero otherwise).
        public var feesPaid: Amount {
            attempts.first { $0.outcome == .succeeded }?.fees ?? .zero
        }
        public var inFlight: Int? { attempts.lastIndex { $0.outcome == .inFlight } }

        /// A payment (as begun, or as stored: `PaymentJournal.restore`).
        public init(id: PaymentID, paymentHash: Hash32, payee: EthereumAddress, amount: Amount, createdAt: UInt64,
                    status: Status, attempts: [Attempt], finishedAt: UInt64? = nil) {
            self.id = id
            self.paymentHash = paymentHash
            self.payee = payee
            self.amount = amount
            self.createdAt = createdAt
            self.status = status
            self.attempts = attempts
            self.finishedAt = finishedAt
        }
    }

    /// What `begin` did.
    public enum Begin: Sendable, Hashable {
        /// A new payment: the caller may route and send.
        case started(Payment)
        /// The id is known (a retried call): nothing new is paid; here is the payment as it stands.
        case existing(Payment)
    }

    public struct Limits: Sendable, Hashable {
        /// Finished payments beyond this are forgotten, oldest first; unfinished ones never are.
        public var maxPayments = 100_000
        /// Attempts per payment (routes tried) before `startAttempt` refuses.
        public var maxAttempts = 16
        public init() {}
    }

    public let limits: Limits
    public private(set) var payments: [PaymentID: Payment] = [:]
    private var byHash: [Hash32: PaymentID] = [:]

    public init(limits: Limits = Limits()) { self.limits = limits }

    /// Starts payment `id`, or returns the payment already under that id. Refuses the same id with
    /// another hash, payee or amount, and a hash that another id is paying or has paid.
    public mutating func begin(id: PaymentID, paymentHash: Hash32, payee: EthereumAddress, amount: Amount,
                               now: UInt64) throws(RoutingError) -> Begin {
        if let existing = payments[id] {
            guard existing.paymentHash == paymentHash, existing.payee == payee, existing.amount == amount else {
                throw .paymentConflict("id \(id) is already used for another payment")
            }
            return .existing(existing)
        }
        if let other = byHash[paymentHash], let payment = payments[other], !isRetryable(payment) {
            throw .paymentConflict("payment hash \(paymentHash) is \(payment.status == .pending ? "being paid" : "already paid") under id \(other)")
        }
        if payments.count >= limits.maxPayments { try evictOldestFinished() }
        let payment = Payment(id: id, paymentHash: paymentHash, payee: payee, amount: amount, createdAt: now,
                              status: .pending, attempts: [])
        payments[id] = payment
        byHash[paymentHash] = id
        return .started(payment)
    }

    /// Records that an HTLC was sent over `route`; returns the attempt's index. Refuses when the
    /// payment is finished, an attempt is in flight (one at a time), or attempts are used up.
    public mutating func startAttempt(_ id: PaymentID, route: Route, now: UInt64) throws(RoutingError) -> Int {
        var payment = try pending(id)
        guard payment.inFlight == nil else { throw .paymentState("an attempt is already in flight") }
        guard payment.attempts.count < limits.maxAttempts else { throw .paymentState("\(limits.maxAttempts) attempts used") }
        guard route.amount == payment.amount, route.target == payment.payee else {
            throw .paymentState("route delivers \(route.amount) to \(route.target), payment is \(payment.amount) to \(payment.payee)")
        }
        payment.attempts.append(Attempt(route: route, startedAt: now, finishedAt: nil, outcome: .inFlight))
        payments[id] = payment
        return payment.attempts.count - 1
    }

    /// The preimage came back: the payment succeeded (its preimage must hash to the payment hash).
    public mutating func succeed(_ id: PaymentID, attempt: Int, preimage: Hash32, now: UInt64) throws(RoutingError) {
        var payment = try inFlight(id, attempt)
        guard SHA256.hash(preimage.bytes) == payment.paymentHash.bytes else { throw .paymentState("preimage does not hash to the payment hash") }
        payment.attempts[attempt].outcome = .succeeded
        payment.attempts[attempt].finishedAt = now
        payment.status = .succeeded(preimage: preimage)
        payment.finishedAt = now
        payments[id] = payment
    }

    /// The attempt failed; the payment stays pending for another route until `giveUp`.
    public mutating func fail(_ id: PaymentID, attempt: Int, hopIndex: Int?, code: PaymeshErrorCode, now: UInt64) throws(RoutingError) {
        var payment = try inFlight(id, attempt)
        let route = payment.attempts[attempt].route
        let node = hopIndex.flatMap { route.hops.indices.contains($0) ? route.hops[$0].nodeID : nil }
        payment.attempts[attempt].outcome = .failed(hopIndex: hopIndex, code: code, node: node)
        payment.attempts[attempt].finishedAt = now
        payments[id] = payment
    }

    /// No more routes (or the payee refused): the payment failed for `reason`.
    public mutating func giveUp(_ id: PaymentID, reason: String, now: UInt64) throws(RoutingError) {
        var payment = try pending(id)
        guard payment.inFlight == nil else { throw .paymentState("an attempt is still in flight") }
        payment.status = .failed(reason: reason)
        payment.finishedAt = now
        payments[id] = payment
    }

    public func payment(_ id: PaymentID) -> Payment? { payments[id] }

    /// The id paying (or that paid) `hash`, if any.
    public func id(forHash hash: Hash32) -> PaymentID? { byHash[hash] }

    /// Every payment, newest first (console `payments.list`).
    public var list: [Payment] {
        payments.values.sorted { ($0.createdAt, $1.id) > ($1.createdAt, $0.id) }
    }

    /// Channels that failed earlier attempts of `id`: what the next search should exclude.
    public func failedChannels(_ id: PaymentID) -> Set<ChannelID> {
        guard let payment = payments[id] else { return [] }
        var channels: Set<ChannelID> = []
        for attempt in payment.attempts {
            guard case .failed(let hop, _, _) = attempt.outcome else { continue }
            let hops = attempt.route.hops
            // The failing node's outgoing channel, or (unattributed / final) the whole route.
            if let hop, hop + 1 < hops.count { channels.insert(hops[hop + 1].channelID) } else { channels.formUnion(hops.map(\.channelID)) }
        }
        return channels
    }

    // MARK: private

    /// A failed payment's hash may be paid again under a new id; a pending or paid one may not.
    private func isRetryable(_ payment: Payment) -> Bool {
        if case .failed = payment.status { return true }
        return false
    }

    private func pending(_ id: PaymentID) throws(RoutingError) -> Payment {
        guard let payment = payments[id] else { throw .unknownPayment() }
        guard !payment.status.isFinal else { throw .paymentState("payment is finished") }
        return payment
    }

    private func inFlight(_ id: PaymentID, _ attempt: Int) throws(RoutingError) -> Payment {
        let payment = try pending(id)
        guard payment.attempts.indices.contains(attempt), payment.attempts[attempt].outcome == .inFlight else {
            throw .paymentState("attempt \(attempt) is not in flight")
        }
        return payment
    }

    private mutating func evictOldestFinished() throws(RoutingError) {
        guard let oldest = payments.values.filter({ $0.status.isFinal }).min(by: { ($0.finishedAt ?? 0, $0.id) < ($1.finishedAt ?? 0, $1.id) }) else {
            throw .journalFull()
        }
        payments[oldest.id] = nil
        if byHash[oldest.paymentHash] == oldest.id { byHash[oldest.paymentHash] = nil }
    }
}

// MARK: Restoring from storage

extension PaymentJournal {
    /// Puts back a payment read from storage (the node persists every change, Specs/routing.md §6):
    /// the same id is replaced; a hash keeps pointing at the payment that is not failed.
    public mutating func restore(_ payment: Payment) {
        payments[payment.id] = payment
        if let other = byHash[payment.paymentHash], other != payment.id, let held = payments[other], !isRetryable(held) { return }
        byHash[payment.paymentHash] = payment.id
    }
}
