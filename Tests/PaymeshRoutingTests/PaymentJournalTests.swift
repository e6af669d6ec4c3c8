import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshRouting
import Testing

@Suite("Payment journal")
struct PaymentJournalTests {
    static let preimage = try! Hash32(SHA256.hash([1]))
    static let hash = try! Hash32(SHA256.hash(preimage.bytes))
    static let route = try! PathSearchTests.line(3).findRoute(query(0, 3, 1_000))

    @Test("a retried id never starts a second payment; conflicting reuse is refused")
    func idempotency() throws {
        var journal = PaymentJournal()
        let id = try PaymentJournal.PaymentID(Array("order-1".utf8))
        guard case .started = try journal.begin(id: id, paymentHash: Self.hash, payee: node(3), amount: Amount(1_000), now: t0) else {
            Issue.record("not started"); return
        }
        let attempt = try journal.startAttempt(id, route: Self.route, now: t0)
        // The same call again (a retry after a timeout): the existing payment, nothing new.
        guard case .existing(let p) = try journal.begin(id: id, paymentHash: Self.hash, payee: node(3), amount: Amount(1_000), now: t0 + 5) else {
            Issue.record("a retry started a payment"); return
        }
        #expect(p.attempts.count == 1)
        #expect(journal.payments.count == 1)
        // Same id, other amount: conflict. Other id, same hash while pending: conflict.
        #expect(throws: RoutingError.self) { try journal.begin(id: id, paymentHash: Self.hash, payee: node(3), amount: Amount(2_000), now: t0) }
        let other = try PaymentJournal.PaymentID(Array("order-2".utf8))
        #expect(throws: RoutingError.self) { try journal.begin(id: other, paymentHash: Self.hash, payee: node(3), amount: Amount(1_000), now: t0) }
        // One attempt at a time.
        #expect(throws: RoutingError.self) { try journal.startAttempt(id, route: Self.route, now: t0) }
        try journal.succeed(id, attempt: attempt, preimage: Self.preimage, now: t0 + 40)
        #expect(journal.payment(id)?.status == .succeeded(preimage: Self.preimage))
        #expect(journal.payment(id)?.feesPaid == Self.route.totalFees)
        // Paid: a retry returns the paid payment; the hash under another id is refused.
        guard case .existing(let paid) = try journal.begin(id: id, paymentHash: Self.hash, payee: node(3), amount: Amount(1_000), now: t0 + 50),
              case .succeeded = paid.status else { Issue.record("retry after success"); return }
        #expect(throws: RoutingError.self) { try journal.begin(id: other, paymentHash: Self.hash, payee: node(3), amount: Amount(1_000), now: t0) }
        #expect(throws: RoutingError.self) { try journal.startAttempt(id, route: Self.route, now: t0 + 60) }
    }

    @Test("attempts record failures and reasons; failed channels feed the next search; give up")
    func attempts() throws {
        var journal = PaymentJournal()
        let id = PaymentJournal.PaymentID(Self.hash)
        _ = try journal.begin(id: id, paymentHash: Self.hash, payee: node(3), amount: Amount(1_000), now: t0)
        let a0 = try journal.startAttempt(id, route: Self.route, now: t0)
        try journal.fail(id, attempt: a0, hopIndex: 1, code: .temporaryChannelFailure, now: t0 + 10)
        #expect(journal.failedChannels(id) == [channel(3)])
        #expect(journal.payment(id)?.attempts[0].outcome == .failed(hopIndex: 1, code: .temporaryChannelFailure, node: node(2)))
        let a1 = try journal.startAttempt(id, route: Self.route, now: t0 + 20)
        try journal.fail(id, attempt: a1, hopIndex: nil, code: .htlcTimeout, now: t0 + 30)
        #expect(journal.failedChannels(id) == [channel(1), channel(2), channel(3)])
        // A wrong preimage is refused; the attempt must be in flight to finish.
        let a2 = try journal.startAttempt(id, route: Self.route, now: t0 + 40)
        #expect(throws: RoutingError.self) { try journal.succeed(id, attempt: a2, preimage: Self.hash, now: t0 + 50) }
        #expect(throws: RoutingError.self) { try journal.fail(id, attempt: a1, hopIndex: nil, code: .htlcTimeout, now: t0 + 50) }
        #expect(throws: RoutingError.self) { try journal.giveUp(id, reason: "no route", now: t0 + 50) }
        try journal.fail(id, attempt: a2, hopIndex: 0, code: .feeInsufficient, now: t0 + 60)
        try journal.giveUp(id, reason: "NO_ROUTE_FOUND after 3 attempts", now: t0 + 70)
        #expect(journal.payment(id)?.status == .failed(reason: "NO_ROUTE_FOUND after 3 attempts"))
        #expect(journal.payment(id)?.feesPaid == .zero)
        // A failed payment's hash may be paid again under a new id.
        let retry = try PaymentJournal.PaymentID(Array("again".utf8))
        guard case .started = try journal.begin(id: retry, paymentHash: Self.hash, payee: node(3), amount: Amount(1_000), now: t0 + 80) else {
            Issue.record("new id after failure"); return
        }
        #expect(journal.list.map(\.id) == [retry, id])
        #expect(throws: RoutingError.self) { try journal.startAttempt(try PaymentJournal.PaymentID([9]), route: Self.route, now: t0) }
    }

    @Test("bounded: attempts per payment, and finished payments evicted oldest first, never pending ones")
    func bounds() throws {
        var limits = PaymentJournal.Limits()
        limits.maxPayments = 2
        limits.maxAttempts = 1
        var journal = PaymentJournal(limits: limits)
        let ids = try (1...3).map { try PaymentJournal.PaymentID([UInt8($0)]) }
        let hashes = try (1...3).map { try Hash32(SHA256.hash([UInt8($0), 9])) }
        _ = try journal.begin(id: ids[0], paymentHash: hashes[0], payee: node(3), amount: Amount(1_000), now: t0)
        _ = try journal.begin(id: ids[1], paymentHash: hashes[1], payee: node(3), amount: Amount(1_000), now: t0)
        #expect(throws: RoutingError.journalFull()) { try journal.begin(id: ids[2], paymentHash: hashes[2], payee: node(3), amount: Amount(1_000), now: t0) }
        let a = try journal.startAttempt(ids[0], route: Self.route, now: t0)
        #expect(throws: RoutingError.self) { try journal.startAttempt(ids[1], route: PathSearchTests.line(2).findRoute(query(0, 2, 1_000)), now: t0) }
        try journal.fail(ids[0], attempt: a, hopIndex: 0, code: .feeInsufficient, now: t0)
        #expect(throws: RoutingError.self) { try journal.startAttempt(ids[0], route: Self.route, now: t0) }
        try journal.giveUp(ids[0], reason: "attempts used", now: t0)
        _ = try journal.begin(id: ids[2], paymentHash: hashes[2], payee: node(3), amount: Amount(1_000), now: t0)
        #expect(journal.payment(ids[0]) == nil)
        #expect(journal.payments.count == 2)
    }
}
