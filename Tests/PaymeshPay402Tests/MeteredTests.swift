import Foundation
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshPay402
import Testing

/// Metered answers (Specs/http402.md §12), sans-IO: how the gateway counts units, the bounded book
/// of partly served answers, and the buyer's decision for each next step — hostile gateways first
/// (asking above the offered rate, pages that do not add up, a cap the next step would cross).
@Suite struct MeteredTests {
    // MARK: Counting (§12.1)

    @Test func tokensAreNewlineDelimitedChunks() {
        let body = MeteredBody(Array("a\nbb\n\nccc".utf8), unit: .token)
        #expect(body.totalUnits == 4, "a\\n, bb\\n, \\n and the unterminated ccc")
        #expect(Array(body.page(0..<2)) == Array("a\nbb\n".utf8))
        #expect(Array(body.page(2..<4)) == Array("\nccc".utf8))
        #expect(MeteredBody(Array("x\n".utf8), unit: .token).totalUnits == 1)
        #expect(MeteredBody([], unit: .token).totalUnits == 0)
        let bytes = MeteredBody(Array("0123456789".utf8), unit: .byte)
        #expect(bytes.totalUnits == 10)
        #expect(Array(bytes.page(3..<5)) == Array("34".utf8))
    }

    @Test func stepPricesAreCheckedForOverflow() {
        #expect(MeteredPrice.of(units: 1_024, unitPrice: 2) == 2_048)
        #expect(MeteredPrice.of(units: 1_024, unitPrice: .max) == nil)
        #expect(MeteredUnit(unit: "call") == nil && MeteredUnit(unit: "second") == nil)
    }

    // MARK: The gateway's book (§12.3)

    static func session(_ size: Int, method: String = "GET", path: String = "/s/x") -> MeteredSessionBook.Session {
        MeteredSessionBook.Session(channel: Fixture.channelID, service: "s", method: method, path: path, status: 200, headers: [],
                                   body: MeteredBody([UInt8](repeating: 0x41, count: size), unit: .byte), unitPrice: 3, served: 1_024)
    }

    @Test func aContinuationMustNameItsSessionAndPayOneStepAtATime() {
        var book = MeteredSessionBook()
        let r1 = book.open("t", Self.session(2_500), now: 0)
        #expect(r1)
        let r2 = book.begin("other", service: "s", method: "GET", path: "/s/x", now: 1)
        #expect(r2 == nil)
        let r3 = book.begin("t", service: "s", method: "POST", path: "/s/x", now: 1)
        #expect(r3 == nil)
        let r4 = book.begin("t", service: "s", method: "GET", path: "/s/y", now: 1)
        #expect(r4 == nil)
        let r5 = book.begin("t", service: "z", method: "GET", path: "/s/x", now: 1)
        #expect(r5 == nil)
        let s = book.begin("t", service: "s", method: "GET", path: "/s/x", now: 1)
        #expect(s?.nextUnits == 1_024 && s?.nextPrice == 3_072)
        let r6 = book.begin("t", service: "s", method: "GET", path: "/s/x", now: 1)
        #expect(r6 == nil, "one step at a time")
        book.finish("t", served: nil, now: 2)  // refused: nothing served
        let again = book.begin("t", service: "s", method: "GET", path: "/s/x", now: 3)
        #expect(again?.served == 1_024)
        book.finish("t", served: 2_048, now: 4)
        let last = book.begin("t", service: "s", method: "GET", path: "/s/x", now: 5)
        #expect(last?.nextUnits == 452 && last?.nextPrice == 1_356, "the last step is priced exactly")
        book.finish("t", served: 2_500, now: 6)
        #expect(book.count == 0 && book.bufferedBytes == 0, "served in full: forgotten")
    }

    @Test func theBookIsBoundedInTimeSessionsAndBytes() {
        var book = MeteredSessionBook()
        let r7 = book.open("a", Self.session(2_000), now: 0)
        #expect(r7)
        book.expire(now: MeteredSessionBook.idleMillis - 1)
        #expect(book.count == 1)
        let r8 = book.begin("a", service: "s", method: "GET", path: "/s/x", now: MeteredSessionBook.idleMillis)
        #expect(r8 == nil, "idle for 60 s: dropped")
        #expect(book.count == 0)
        // Bytes: a new answer evicts the least recently used ones; one above the bound is not kept.
        let half = MeteredSessionBook.maxBufferedBytes / 2
        let r9 = book.open("b", Self.session(half), now: 1)
        #expect(r9)
        let r10 = book.open("c", Self.session(half), now: 2)
        #expect(r10)
        let r11 = book.open("d", Self.session(2_000), now: 3)
        #expect(r11)
        let r12 = book.begin("b", service: "s", method: "GET", path: "/s/x", now: 4)
        #expect(r12 == nil, "the oldest was evicted")
        #expect(book.bufferedBytes <= MeteredSessionBook.maxBufferedBytes)
        let r13 = book.open("e", Self.session(MeteredSessionBook.maxBufferedBytes + 1), now: 5)
        #expect(!r13)
        // Sessions: never more than maxSessions.
        var many = MeteredSessionBook()
        for i in 0...MeteredSessionBook.maxSessions {
            let kept = many.open("s\(i)", Self.session(2_000), now: UInt64(i))
            #expect(kept)
        }
        #expect(many.count == MeteredSessionBook.maxSessions)
    }

    // MARK: The buyer (§12.4)

    static func terms(cap: UInt128) -> MeteredPurchase? {
        MeteredPurchase(.channel(price: 2_048, asset: "USDC", decimals: 6, unit: "byte", payee: Fixture.payeeKey.address, chainID: 0,
                                 resource: "r", metered: (1_024, 2)), cap: cap)
    }

    static func page(units: UInt64, from: UInt64, total: UInt64, next: String? = nil, token: String? = "t") -> [HTTPHeaderField] {
        var h = [HTTPHeaderField(MeteredHeader.units, String(units)), HTTPHeaderField(MeteredHeader.unitsFrom, String(from)),
                 HTTPHeaderField(MeteredHeader.unitsTotal, String(total))]
        if let next, let token { h += [HTTPHeaderField(MeteredHeader.continue, token), HTTPHeaderField(MeteredHeader.nextPrice, next)] }
        return h
    }

    @Test func theBuyerPaysEachStepAtTheOfferedRateAndNeverAboveTheCap() throws {
        var p = try #require(Self.terms(cap: 5_000))
        let n1 = p.onPage(price: 2_048, headers: Self.page(units: 1_024, from: 0, total: 2_500, next: "2048"))
        #expect(n1 == .pay(price: 2_048, token: "t"))
        let n2 = p.onPage(price: 2_048, headers: Self.page(units: 1_024, from: 1_024, total: 2_500, next: "904"))
        #expect(n2 == .pay(price: 904, token: "t"))
        let n3 = p.onPage(price: 904, headers: Self.page(units: 452, from: 2_048, total: 2_500))
        #expect(n3 == .done)
        #expect(p.paid == 5_000 && p.units == 2_500)

        // The cap: 5,000 pays two steps of 2,048; the third would make 6,144.
        var capped = try #require(Self.terms(cap: 5_000))
        _ = capped.onPage(price: 2_048, headers: Self.page(units: 1_024, from: 0, total: 9_000, next: "2048"))
        guard case .stop = capped.onPage(price: 2_048, headers: Self.page(units: 1_024, from: 1_024, total: 9_000, next: "2048")) else {
            Issue.record("paid above the cap"); return
        }
        #expect(capped.paid == 4_096 && capped.units == 2_048)
    }

    /// §12.4: a purchase resumed from its journalled state (paid, units, total) goes on from the
    /// units it holds: a page that does not start there is refused, the cap counts what was paid.
    @Test func aResumedPurchaseGoesOnFromItsJournalledState() throws {
        var p = try #require(Self.terms(cap: 5_000))
        p.resume(paid: 2_048, units: 1_024, total: 2_500)
        guard case .stop = p.onPage(price: 2_048, headers: Self.page(units: 1_024, from: 0, total: 2_500, next: "904")) else {
            Issue.record("a page from unit 0 taken after unit 1,024"); return
        }
        var q = try #require(Self.terms(cap: 5_000))
        q.resume(paid: 2_048, units: 1_024, total: 2_500)
        #expect(q.onPage(price: 2_048, headers: Self.page(units: 1_024, from: 1_024, total: 2_500, next: "904")) == .pay(price: 904, token: "t"))
        #expect(q.onPage(price: 904, headers: Self.page(units: 452, from: 2_048, total: 2_500)) == .done)
        #expect(q.paid == 5_000 && q.units == 2_500)
        var capped = try #require(Self.terms(cap: 4_500))
        capped.resume(paid: 4_096, units: 2_048, total: 9_000)
        guard case .stop = capped.onPage(price: 0, headers: Self.page(units: 0, from: 2_048, total: 9_000, next: "2048")) else {
            Issue.record("paid above the cap after a resume"); return
        }
    }

    @Test func aHostileGatewayGetsNothingMore() throws {
        func first(_ headers: [HTTPHeaderField]) throws -> MeteredPurchase.Next {
            var p = try #require(Self.terms(cap: 1_000_000))
            return p.onPage(price: 2_048, headers: headers)
        }
        let hostile: [(String, [HTTPHeaderField])] = [
            ("above the rate", Self.page(units: 1_024, from: 0, total: 9_000, next: "2049")),
            ("a full step for what remains", Self.page(units: 1_024, from: 0, total: 1_030, next: "2048")),
            ("units from elsewhere", Self.page(units: 1_024, from: 5, total: 9_000, next: "2048")),
            ("more units than the total", Self.page(units: 1_024, from: 0, total: 10, next: "2048")),
            ("no counts", [HTTPHeaderField(MeteredHeader.continue, "t"), HTTPHeaderField(MeteredHeader.nextPrice, "2")]),
            ("a next price that is not a number", Self.page(units: 1_024, from: 0, total: 9_000, next: "-1")),
            ("no continuation before the end", Self.page(units: 1_024, from: 0, total: 9_000)),
        ]
        for (what, headers) in hostile {
            guard case .stop = try first(headers) else { Issue.record("\(what): paid on"); continue }
        }
        // Terms that do not add up are not metered terms: the requirement is not bought.
        #expect(MeteredPurchase(.channel(price: 2_047, asset: "USDC", decimals: 6, unit: "byte", payee: Fixture.payeeKey.address, chainID: 0,
                                         resource: "r", metered: (1_024, 2)), cap: 10_000) == nil)
        #expect(MeteredPurchase(.channel(price: 2_048, asset: "USDC", decimals: 6, unit: "second", payee: Fixture.payeeKey.address, chainID: 0,
                                         resource: "r", metered: (1_024, 2)), cap: 10_000) == nil)
        #expect(MeteredPurchase(Fixture.requirements(), cap: 10_000) == nil, "a call is not metered")
    }

    @Test func aMeteredOfferIsChosenWhenItsFirstStepIsWithinTheCap() throws {
        func offers(amount: String, step: String, unitPrice: String, unit: String = "byte") throws -> PaymentOffers {
            let json = FetchChoiceTests.requirementJSON(amount: amount, unit: unit)
                .replacingOccurrences(of: "\"unit\":\"\(unit)\"", with: "\"unit\":\"\(unit)\",\"step\":\"\(step)\",\"unitPrice\":\"\(unitPrice)\"")
            return try FetchChoiceTests.offers(json)
        }
        let ok = try PaymentChoice.choose(try offers(amount: "2048", step: "1024", unitPrice: "2"), maxPrice: .init(amount: 2_048),
                                          channels: [FetchChoiceTests.ours])
        guard case .channel(_, let requirements, _) = ok else { Issue.record("not chosen"); return }
        #expect(MeteredPurchase(requirements, cap: 2_048)?.step == 1_024)
        let refused: [(String, PaymentOffers, UInt128, PaymeshErrorCode)] = [
            ("the cap below the first step", try offers(amount: "2048", step: "1024", unitPrice: "2"), 2_047, .fetchPriceAboveMax),
            ("amount is not step × unitPrice", try offers(amount: "2047", step: "1024", unitPrice: "2"), 10_000, .fetchNoPayableScheme),
            ("a step of zero", try offers(amount: "2048", step: "0", unitPrice: "2"), 10_000, .fetchNoPayableScheme),
            ("a leading zero", try offers(amount: "2048", step: "01024", unitPrice: "2"), 10_000, .fetchNoPayableScheme),
            ("seconds whose amount is not step × unitPrice", try offers(amount: "2047", step: "1024", unitPrice: "2", unit: "second"), 10_000,
             .fetchNoPayableScheme),
            ("seconds, the cap below the first step", try offers(amount: "20", step: "10", unitPrice: "2", unit: "second"), 19, .fetchPriceAboveMax),
        ]
        // Seconds (§12.6) are bought in steps of upstream time.
        let seconds = try PaymentChoice.choose(try offers(amount: "20", step: "10", unitPrice: "2", unit: "second"), maxPrice: .init(amount: 20),
                                               channels: [FetchChoiceTests.ours])
        guard case .channel(_, let perSecond, _) = seconds else { Issue.record("seconds not chosen"); return }
        #expect(TimedPurchase(perSecond, cap: 20)?.stepPrice == 20 && MeteredPurchase(perSecond, cap: 20) == nil)
        for (what, o, cap, code) in refused {
            do {
                let choice = try PaymentChoice.choose(o, maxPrice: .init(amount: cap), channels: [FetchChoiceTests.ours])
                Issue.record("\(what): chose \(choice)")
            } catch {
                #expect(error.code == code, "\(what): \(error)")
            }
        }
    }
}
