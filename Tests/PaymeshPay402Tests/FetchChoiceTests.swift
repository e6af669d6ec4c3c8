import Foundation
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshPay402
import Testing

/// The paying side (Specs/http402.md §11): reading a 402 answer (`PaymentOffers`) and choosing what
/// to pay (`PaymentChoice`). Hostile answers — huge amounts, another asset or network, a payee we
/// have no channel to, bad base64 — are refused with a code and never chosen.
@Suite struct FetchChoiceTests {
    static let network = ChannelScheme.network(chainID: 84_532)
    static let ours = PayableChannel(channelID: Fixture.channelID, payee: Fixture.payeeKey.address, asset: Fixture.asset,
                                     network: network, available: 10_000)

    static func answer(_ challenge: PaymentChallenge) -> (headers: [HTTPHeaderField], body: [UInt8]) {
        (challenge.headers, challenge.body)
    }

    static func v2Header(_ json: String) -> HTTPHeaderField {
        HTTPHeaderField("PAYMENT-REQUIRED", Data(json.utf8).base64EncodedString())
    }

    static func requirementJSON(amount: String = "250", asset: String = "USDC", payTo: String = Fixture.payeeKey.address.description,
                                network: String = network, scheme: String = "paymesh-channel", unit: String = "call", decimals: Int = 6) -> String {
        """
        {"scheme":"\(scheme)","network":"\(network)","asset":"\(asset)","amount":"\(amount)","payTo":"\(payTo)","maxTimeoutSeconds":60,\
        "extra":{"name":"Paymesh","version":"1","chainId":"84532","verifyingContract":"0x5fbdb2315678afecb367f032d93f642f64180aa3","decimals":\(decimals),"unit":"\(unit)"}}
        """
    }

    static func offers(_ requirement: String) throws(Pay402Error) -> PaymentOffers {
        try PaymentOffers.parse(headers: [v2Header("{\"x402Version\":2,\"error\":\"x\",\"accepts\":[\(requirement)]}")], body: [])
    }

    @Test func readsEverySchemeOfTheGatewaysAnswer() throws {
        let (headers, body) = Self.answer(PaymentChallenge(requirements: [Fixture.requirements()], l402: Fixture.l402()))
        let offers = try PaymentOffers.parse(headers: headers, body: body)
        #expect(offers.requirements.count == 1, "v1 and v2 list the same requirement once")
        #expect(offers.requirements.first?.x402Version == 2)
        #expect(offers.requirements.first?.amount == 250)
        #expect(offers.requirements.first?.payTo == Fixture.payeeKey.address)
        #expect(offers.l402?.paymentHash == Fixture.paymentHash)
        #expect(offers.l402?.invoice == "lnpm1invoice")
        #expect(offers.l402?.validUntil == Fixture.now + 3_600)
        #expect(offers.error == "1301 PAYMENT_REQUIRED: payment required")

        // v1 alone (a client that only reads the body) gives the same requirement.
        let v1 = try PaymentOffers.parse(headers: [], body: body)
        #expect(v1.requirements.first?.x402Version == 1 && v1.requirements.first?.amount == 250)

        let choice = try PaymentChoice.choose(offers, maxPrice: .init(amount: 250), channels: [Self.ours])
        guard case .channel(let r, let requirements, let through) = choice else { Issue.record("not the channel scheme"); return }
        #expect(r.amount == 250 && through == Fixture.channelID)
        #expect(requirements.payTo == Fixture.payeeKey.address && requirements.amount == 250 && requirements.extra == Fixture.requirements().extra)
    }

    @Test func theProofBuiltFromTheChoiceVerifiesAtTheGateway() throws {
        let (headers, body) = Self.answer(PaymentChallenge(requirements: [Fixture.requirements()]))
        let offers = try PaymentOffers.parse(headers: headers, body: body)
        guard case .channel(let r, let requirements, _) = try PaymentChoice.choose(offers, maxPrice: .init(amount: 1_000), channels: [Self.ours]) else {
            Issue.record("no choice"); return
        }
        let proof = FetchEntry.proof(Fixture.voucher(nonce: 5, amount: 1_250, taskID: "k1"), paying: requirements, x402Version: r.x402Version)
        #expect(proof.name == "PAYMENT-SIGNATURE")
        guard case .channel(let parsed)? = try PaymentProof.parse(headers: [proof]) else { Issue.record("no proof"); return }
        let accepted = try PaymentVerifier.verify(parsed, requirements: Fixture.requirements(), channel: Fixture.channel())
        #expect(accepted.increment == 250)
    }

    @Test func overTheMaximumIsRefusedWith1482() throws {
        #expect(throws: Pay402Error.self) { try PaymentChoice.choose(try Self.offers(Self.requirementJSON()), maxPrice: .init(amount: 249), channels: [Self.ours]) }
        do { _ = try PaymentChoice.choose(try Self.offers(Self.requirementJSON()), maxPrice: .init(amount: 249), channels: [Self.ours]) } catch {
            #expect(error.code == .fetchPriceAboveMax)
        }
        // A decimal maximum in another asset does not cover a USDC price.
        do { _ = try PaymentChoice.choose(try Self.offers(Self.requirementJSON()), maxPrice: .init(amount: 1_000_000, asset: "EURC"), channels: [Self.ours]) } catch {
            #expect(error.code == .fetchNoPayableScheme)
        }
    }

    @Test func hostileAnswersAreNeverPaid() throws {
        let huge = "340282366920938463463374607431768211456" // 2^128: not an amount
        let stranger = Fixture.forgerKey.address.description
        let cases: [(String, String, PaymeshErrorCode)] = [
            ("an amount of 2^128", Self.requirementJSON(amount: huge), .fetchChallengeMalformed),
            ("the largest amount", Self.requirementJSON(amount: String(UInt128.max)), .fetchPriceAboveMax),
            ("a leading zero", Self.requirementJSON(amount: "0250"), .fetchChallengeMalformed),
            ("a negative amount", Self.requirementJSON(amount: "-1"), .fetchChallengeMalformed),
            ("a float", Self.requirementJSON(amount: "2.5e2"), .fetchChallengeMalformed),
            ("a price of zero", Self.requirementJSON(amount: "0"), .fetchNoPayableScheme),
            ("another asset", Self.requirementJSON(asset: "DAI"), .fetchNoPayableScheme),
            ("another payee", Self.requirementJSON(payTo: stranger), .fetchNoPayableScheme),
            ("not an address", Self.requirementJSON(payTo: "0x1234"), .fetchChallengeMalformed),
            ("another network", Self.requirementJSON(network: "eip155:1"), .fetchNoPayableScheme),
            ("another scheme", Self.requirementJSON(scheme: "exact"), .fetchNoPayableScheme),
            ("a metered unit", Self.requirementJSON(unit: "token"), .fetchNoPayableScheme),
            ("other decimals", Self.requirementJSON(decimals: 18), .fetchNoPayableScheme),
        ]
        for (what, json, code) in cases {
            do {
                let choice = try PaymentChoice.choose(try Self.offers(json), maxPrice: .init(amount: 1_000), channels: [Self.ours])
                Issue.record("\(what): chose \(choice)")
            } catch {
                #expect(error.code == code, "\(what): \(error)")
            }
        }
        // Not enough left in the channel.
        var poor = Self.ours
        poor.available = 100
        do { _ = try PaymentChoice.choose(try Self.offers(Self.requirementJSON()), maxPrice: .init(amount: 1_000), channels: [poor]); Issue.record("paid") } catch {
            #expect(error.code == .fetchNoPayableScheme)
        }
    }

    @Test func malformedHeadersAndBodies() throws {
        let garbage: [([HTTPHeaderField], String)] = [
            ([HTTPHeaderField("PAYMENT-REQUIRED", "%%%not base64")], ""),
            ([HTTPHeaderField("PAYMENT-REQUIRED", Data("not json".utf8).base64EncodedString())], "<html>402</html>"),
            ([HTTPHeaderField("PAYMENT-REQUIRED", String(repeating: "A", count: 9_000))], ""),
            ([Self.v2Header("{\"x402Version\":3,\"accepts\":[\(Self.requirementJSON())]}")], ""),
            ([HTTPHeaderField("WWW-Authenticate", "Basic realm=\"x\"")], "{}"),
            ([HTTPHeaderField("WWW-Authenticate", "L402 macaroon=\"AAAA\", invoice=\"x\"")], ""),
            ([HTTPHeaderField("WWW-Authenticate", "L402 invoice=\"x\"")], ""),
            ([], "{\"x402Version\":1,\"accepts\":[{\"scheme\":1}]}"),
            ([], String(repeating: " ", count: PaymentOffers.maxBodyBytes + 1)),
        ]
        for (headers, body) in garbage {
            do { _ = try PaymentOffers.parse(headers: headers, body: Array(body.utf8)); Issue.record("parsed \(headers) \(body.prefix(40))") } catch {
                #expect(error.code == .fetchChallengeMalformed)
            }
        }
        // One bad entry does not hide a good one; a bad v2 header does not hide a good v1 body.
        let mixed = try Self.offers("{\"scheme\":7}," + Self.requirementJSON())
        #expect(mixed.requirements.count == 1)
        let (_, body) = Self.answer(PaymentChallenge(requirements: [Fixture.requirements()]))
        let fallback = try PaymentOffers.parse(headers: [HTTPHeaderField("PAYMENT-REQUIRED", "%%%")], body: body)
        #expect(fallback.requirements.first?.x402Version == 1)
    }

    @Test func l402IsChosenWhenNoChannelCanPay() throws {
        let (headers, body) = Self.answer(PaymentChallenge(requirements: [Fixture.requirements()], l402: Fixture.l402()))
        let offers = try PaymentOffers.parse(headers: headers, body: body)
        guard case .l402(let offer, let price) = try PaymentChoice.choose(offers, maxPrice: .init(amount: 500), channels: [], l402Price: 300) else {
            Issue.record("not L402"); return
        }
        #expect(price == 300 && offer.paymentHash == Fixture.paymentHash)
        do { _ = try PaymentChoice.choose(offers, maxPrice: .init(amount: 299), channels: [], l402Price: 300); Issue.record("paid") } catch {
            #expect(error.code == .fetchPriceAboveMax)
        }
        do { _ = try PaymentChoice.choose(offers, maxPrice: .init(amount: 500), channels: [], l402Price: nil); Issue.record("paid") } catch {
            #expect(error.code == .fetchNoPayableScheme)
        }
    }

    @Test func theJournalKeepsOneEntryPerKey() throws {
        let offers = try Self.offers(Self.requirementJSON())
        let r = try #require(offers.requirements.first)
        let entry = FetchEntry(key: "k1", method: "GET", url: "http://127.0.0.1:1/a", requirement: r, requirements: try #require(r.paymentRequirements),
                               channel: Fixture.channelID.description, nonce: 5, now: 1)
        var journal = FetchJournal()
        try journal.put(entry)
        #expect(try journal.entry("k1", method: "GET", url: "http://127.0.0.1:1/a") == entry)
        #expect(throws: Pay402Error.self) { try journal.entry("k1", method: "POST", url: "http://127.0.0.1:1/a") }
        #expect(try FetchEntry.decode(entry.encoded()) == entry)
        #expect(entry.requirements?.amount == 250)
        // A metered purchase that may go on (§12.4) is not final, and its continuation state reads back.
        var metering = entry
        metering.status = .paid
        metering.continueToken = "0123456789abcdef0123456789abcdef"
        metering.step = 2
        metering.stepPrice = "2048"
        metering.stepNonce = "7"
        metering.stepProofHeader = "X-PAYMENT"
        metering.stepProofValue = "e30="
        metering.units = "2048"
        metering.paidTotal = "4096"
        metering.unitsTotal = "5000"
        metering.cap = "20000"
        #expect(!metering.isFinal)
        #expect(try FetchEntry.decode(metering.encoded()) == metering)
        metering.endSteps()
        #expect(metering.isFinal && metering.continueToken == nil && metering.stepProofValue == nil && metering.units == "2048")
        #expect(throws: Pay402Error.self) { try FetchJournal.checkKey("") }
        #expect(throws: Pay402Error.self) { try FetchJournal.checkKey("a b") }
        #expect(throws: Pay402Error.self) { try FetchJournal.checkKey(String(repeating: "k", count: 49)) }
        try FetchJournal.checkKey("order-42:retry.1_x")
    }
}
