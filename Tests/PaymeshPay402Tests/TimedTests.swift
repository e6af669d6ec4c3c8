import PaymeshMessages
@testable import PaymeshPay402
import Testing

/// Per-second answers (Specs/http402.md §12.6), sans-IO in simulated milliseconds: the gateway's
/// book decides for each piece of upstream output and each deadline; the buyer decides each top-up.
/// Hostile sides first: output after the paid time, top-ups too late, for another target, twice at
/// once, past the bound; a gateway asking above its rate; a cap the next step would cross.
@Suite struct TimedTests {
    static func session(step: UInt64 = 10, start: UInt64 = 1_000) -> TimedSessionBook.Session {
        TimedSessionBook.Session(channel: Fixture.channelID, service: "s", method: "GET", path: "/s/x", unitPrice: 7, stepSeconds: step,
                                 startMillis: start)
    }

    @Test func outputIsForwardedOnlyWhilePaid() {
        var book = TimedSessionBook()
        #expect(book.open("t", Self.session()) == true)
        #expect(book.open("t", Self.session()) == false, "a token is never reused")
        #expect(book.session("t")?.stepPrice == 70)
        // Paid: 10 s from 1,000 ms.
        #expect(book.onOutput("t", bytes: 10, now: 1_000) == .forward(until: 11_000))
        #expect(book.onOutput("t", bytes: 10, now: 10_999) == .forward(until: 11_000))
        // Past the paid time: held during the 1 s grace, not forwarded.
        #expect(book.onOutput("t", bytes: 10, now: 11_000) == .hold(until: 12_000))
        #expect(book.session("t")?.heldBytes == 10)
        #expect(book.onTimer("t", now: 11_500) == .hold(until: 12_000))
        // A top-up within the grace pays from the old end (the gap is paid): the held output goes.
        #expect(book.beginTopUp("t", service: "s", method: "GET", path: "/s/x", now: 11_900) != nil)
        #expect(book.finishTopUp("t", paid: true)?.paidSeconds == 20)
        #expect(book.onTimer("t", now: 11_950) == .forward(until: 21_000))
        book.release("t")
        #expect(book.onOutput("t", bytes: 5, now: 20_000) == .forward(until: 21_000))
        // No top-up: held, then stopped at the end of the grace; nothing after it is forwarded.
        #expect(book.onOutput("t", bytes: 5, now: 21_000) == .hold(until: 22_000))
        #expect(book.onTimer("t", now: 22_000) == .stop(.unpaid))
        #expect(book.onOutput("t", bytes: 5, now: 22_001) == .stop(.unpaid))
        #expect(book.beginTopUp("t", service: "s", method: "GET", path: "/s/x", now: 22_000) == nil, "too late: nothing taken")
        book.close("t")
        #expect(book.count == 0 && book.onTimer("t", now: 0) == .stop(.unpaid))
    }

    @Test func hostileTopUpsAreRefusedBeforeAnythingIsTaken() {
        var book = TimedSessionBook()
        #expect(book.open("t", Self.session()) == true)
        #expect(book.beginTopUp("u", service: "s", method: "GET", path: "/s/x", now: 2_000) == nil, "unknown token")
        #expect(book.beginTopUp("t", service: "other", method: "GET", path: "/s/x", now: 2_000) == nil)
        #expect(book.beginTopUp("t", service: "s", method: "POST", path: "/s/x", now: 2_000) == nil)
        #expect(book.beginTopUp("t", service: "s", method: "GET", path: "/s/y", now: 2_000) == nil)
        #expect(book.beginTopUp("t", service: "s", method: "GET", path: "/s/x", now: 2_000) != nil)
        #expect(book.beginTopUp("t", service: "s", method: "GET", path: "/s/x", now: 2_000) == nil, "one top-up at a time")
        // A refused top-up adds nothing.
        #expect(book.finishTopUp("t", paid: false)?.paidSeconds == 10)
        // While a top-up is being verified the answer is held, not ended as unpaid, even past the grace.
        #expect(book.beginTopUp("t", service: "s", method: "GET", path: "/s/x", now: 11_999) != nil)
        #expect(book.onTimer("t", now: 15_000) == .hold(until: 15_000))
        #expect(book.finishTopUp("t", paid: false)?.paidSeconds == 10)
        #expect(book.onTimer("t", now: 15_000) == .stop(.unpaid))
    }

    @Test func sessionsAreBounded() {
        var book = TimedSessionBook()
        for i in 0..<TimedSessionBook.maxSessions { #expect(book.open("t\(i)", Self.session()) == true) }
        #expect(book.open("late", Self.session()) == false, "\(TimedSessionBook.maxSessions) answers at most")
        book.close("t0")
        #expect(book.open("late", Self.session()) == true)
        #expect(!book.open("bad-step", Self.session(step: 61)) && !book.open("zero-step", Self.session(step: 0)))
        // At most an hour of paid time: the last step is refused, the answer ends with `limit`.
        var one = TimedSessionBook()
        #expect(one.open("t", Self.session(step: 60, start: 0)) == true)
        for i in 1..<60 {
            #expect(one.beginTopUp("t", service: "s", method: "GET", path: "/s/x", now: UInt64(i) * 60_000 - 1) != nil)
            one.finishTopUp("t", paid: true)
        }
        #expect(one.session("t")?.paidSeconds == TimedSessionBook.maxSeconds)
        #expect(one.beginTopUp("t", service: "s", method: "GET", path: "/s/x", now: 3_599_000) == nil)
        #expect(one.onTimer("t", now: 3_600_000) == .stop(.limit))
        // Output held during a grace is bounded.
        var held = TimedSessionBook()
        #expect(held.open("t", Self.session(start: 0)) == true)
        #expect(held.onOutput("t", bytes: TimedSessionBook.maxHeldBytes, now: 10_000) == .hold(until: 11_000))
        #expect(held.onOutput("t", bytes: 1, now: 10_001) == .stop(.limit))
    }

    // MARK: The buyer (§12.6)

    static func requirements(step: UInt64 = 10, unitPrice: UInt128 = 7, amount: UInt128 = 70) -> PaymentRequirements {
        .channel(price: amount, asset: "USDC", decimals: 6, unit: "second", payee: Fixture.payeeKey.address, chainID: 0,
                 resource: "http://127.0.0.1:1/s", description: "s", metered: (step, unitPrice))
    }

    static func head(_ seconds: String = "10", step: String = "10", next: String = "70", token: String? = "tok") -> [HTTPHeaderField] {
        [HTTPHeaderField(TimedHeader.secondsPaid, seconds), HTTPHeaderField(TimedHeader.step, step),
         HTTPHeaderField(MeteredHeader.nextPrice, next)] + (token.map { [HTTPHeaderField(MeteredHeader.continue, $0)] } ?? [])
    }

    @Test func buyerTopsUpHalfAStepEarlyWithinItsCap() throws {
        #expect(TimedPurchase(Self.requirements(amount: 69), cap: 1_000) == nil, "amount must be step × unit price")
        #expect(TimedPurchase(.channel(price: 2_048, asset: "USDC", decimals: 6, unit: "byte", payee: Fixture.payeeKey.address, chainID: 0,
                                       resource: "r", metered: (1_024, 2)), cap: 1_000) == nil, "a byte service is not per second")
        var p = try #require(TimedPurchase(Self.requirements(), cap: 200))
        p.onHead(price: 70, headers: Self.head())
        #expect(p.paid == 70 && p.secondsPaid == 10)
        #expect(p.next(elapsed: 0) == .wait(until: 5_000))
        #expect(p.next(elapsed: 5_000) == .pay(price: 70, token: "tok"))
        p.onTopUp(price: 70, accepted: true, headers: [HTTPHeaderField(TimedHeader.secondsPaid, "20")])
        #expect(p.paid == 140 && p.secondsPaid == 20)
        #expect(p.next(elapsed: 6_000) == .wait(until: 15_000))
        // 140 + 70 > 200: never above the cap.
        guard case .stop(let why) = p.next(elapsed: 15_000) else { Issue.record("expected a stop"); return }
        #expect(why.contains("cap"))
    }

    @Test func buyerPaysNothingToAHostileGateway() throws {
        // Asking above the offered rate, or lying about the paid time, or no token: nothing more is paid.
        for headers in [Self.head(next: "71"), Self.head("11"), Self.head(step: "9"), Self.head(token: nil)] {
            var p = try #require(TimedPurchase(Self.requirements(), cap: 10_000))
            p.onHead(price: 70, headers: headers)
            guard case .stop = p.next(elapsed: 9_000) else { Issue.record("paid for \(headers)"); continue }
        }
        // A refused top-up, or a top-up answer that does not add up, stops the buying.
        var p = try #require(TimedPurchase(Self.requirements(), cap: 10_000))
        p.onHead(price: 70, headers: Self.head())
        p.onTopUp(price: 70, accepted: false, headers: [HTTPHeaderField(Pay402Header.errorCode, "1326")])
        #expect(p.paid == 70)
        guard case .stop(let why) = p.next(elapsed: 9_000) else { Issue.record("expected a stop"); return }
        #expect(why.contains("1326"))
        var q = try #require(TimedPurchase(Self.requirements(), cap: 10_000))
        q.onHead(price: 70, headers: Self.head())
        q.onTopUp(price: 70, accepted: true, headers: [HTTPHeaderField(TimedHeader.secondsPaid, "30")])
        guard case .stop = q.next(elapsed: 9_000) else { Issue.record("expected a stop"); return }
    }
}
