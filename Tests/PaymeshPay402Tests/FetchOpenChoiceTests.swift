import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshPay402
import Testing

/// A channel opened for a request (Specs/http402.md §11.3): chosen only when no channel can pay,
/// the policy's `auto_open` terms name the asset, and the deposit stays within the policy's
/// bounds; an L402 invoice the node can pay is preferred; a retry never opens a second channel.
@Suite struct FetchOpenChoiceTests {
    static let payee = Fixture.payeeKey.address
    static let usdc = PaymentChoice.Opening.PeerAsset(payee, "USDC")

    static func offers(l402: Bool = false) throws -> PaymentOffers {
        let challenge = PaymentChallenge(requirements: [Fixture.requirements()], l402: l402 ? Fixture.l402() : nil)
        return try PaymentOffers.parse(headers: challenge.headers, body: challenge.body)
    }

    static func opening(_ terms: AutoOpenTerms?, deposits: [PaymentChoice.Opening.PeerAsset: UInt128] = [:], decimals: UInt8 = 6,
                        edit: (inout SpendingPolicy) -> Void = { _ in }) -> PaymentChoice.Opening {
        var policy = SpendingPolicy()
        if let terms { policy.autoOpen["USDC"] = terms }
        edit(&policy)
        return PaymentChoice.Opening(policy: policy, deposits: deposits, ledgerDecimals: ["USDC": decimals])
    }

    static func refusal(_ opening: PaymentChoice.Opening, channels: [PayableChannel] = [], max: UInt128 = 1_000) throws -> Pay402Error? {
        let offers = try offers()
        do { _ = try PaymentChoice.choose(offers, maxPrice: .init(amount: max), channels: channels, opening: opening) } catch { return error }
        return nil
    }

    @Test func opensWhenNoChannelCanPayAndThePolicyAllows() throws {
        guard case .openChannel(let r, let requirements, let deposit) = try PaymentChoice.choose(
            try Self.offers(), maxPrice: .init(amount: 1_000), channels: [], opening: Self.opening(.init(deposit: 10_000))) else {
            Issue.record("no channel opened"); return
        }
        #expect(deposit == 10_000 && r.payTo == Self.payee && r.amount == 250 && requirements.amount == 250)
        // A channel whose remaining deposit is below the price does not pay: a new one is opened.
        let short = PayableChannel(channelID: Fixture.channelID, payee: Self.payee, asset: Fixture.asset,
                                   network: ChannelScheme.network(chainID: 84_532), available: 249)
        guard case .openChannel = try PaymentChoice.choose(try Self.offers(), maxPrice: .init(amount: 1_000), channels: [short],
                                                           opening: Self.opening(.init(deposit: 10_000))) else {
            Issue.record("no channel opened beside the exhausted one"); return
        }
        // A channel that can pay is used: nothing is opened.
        var enough = short
        enough.available = 250
        guard case .channel(_, _, let through) = try PaymentChoice.choose(try Self.offers(), maxPrice: .init(amount: 1_000), channels: [enough],
                                                                         opening: Self.opening(.init(deposit: 10_000))) else {
            Issue.record("the open channel was not used"); return
        }
        #expect(through == Fixture.channelID)
    }

    @Test func theDefaultPolicyOpensNothing() throws {
        let error = try #require(try Self.refusal(Self.opening(nil)))
        #expect(error.code == .fetchNoPayableScheme && error.detail.contains("auto_open is off"), "\(error.detail)")
        #expect(try Self.refusal(Self.opening(nil, edit: { $0.autoOpen["EURC"] = .init(deposit: 5) }))?.code == .fetchNoPayableScheme)
        // No opening view at all (a caller that does not open): as before.
        let offers = try Self.offers()
        do { _ = try PaymentChoice.choose(offers, maxPrice: .init(amount: 1_000), channels: []); Issue.record("paid") } catch {
            #expect(error.code == .fetchNoPayableScheme)
        }
    }

    @Test func depositsAboveTheBoundsAreRefusedWith1488() throws {
        func code(_ opening: PaymentChoice.Opening) throws -> (PaymeshErrorCode?, String) {
            let e = try Self.refusal(opening)
            return (e?.code, e?.detail ?? "")
        }
        // The per-peer bound counts the deposits of the unsettled channels to the payee.
        #expect(try code(Self.opening(.init(deposit: 10_000, maxPerPeer: 9_999))).0 == .fetchChannelOpenRefused)
        #expect(try code(Self.opening(.init(deposit: 10_000, maxPerPeer: 15_000), deposits: [Self.usdc: 5_001])).0 == .fetchChannelOpenRefused)
        guard case .openChannel = try PaymentChoice.choose(try Self.offers(), maxPrice: .init(amount: 1_000), channels: [],
                                                           opening: Self.opening(.init(deposit: 10_000, maxPerPeer: 15_000), deposits: [Self.usdc: 5_000])) else {
            Issue.record("a deposit exactly at the bound was refused"); return
        }
        // The overall bound counts every payee's channels in the asset, not other assets.
        let other = PaymentChoice.Opening.PeerAsset(Fixture.forgerKey.address, "USDC")
        let (overall, why) = try code(Self.opening(.init(deposit: 10_000, maxTotal: 20_000), deposits: [other: 10_001]))
        #expect(overall == .fetchChannelOpenRefused && why.contains("max_total"), "\(why)")
        let eurc = PaymentChoice.Opening.PeerAsset(Fixture.forgerKey.address, "EURC")
        #expect(try code(Self.opening(.init(deposit: 10_000, maxTotal: 20_000), deposits: [eurc: 1_000_000])).0 == nil)
        // Sums near 2^128 do not wrap into room.
        #expect(try code(Self.opening(.init(deposit: .max, maxPerPeer: .max), deposits: [Self.usdc: 1])).0 == .fetchChannelOpenRefused)
        // A deposit below the price, a payee denied or not allowed, decimals that differ, max_per_payment.
        #expect(try code(Self.opening(.init(deposit: 249))).0 == .fetchChannelOpenRefused)
        #expect(try code(Self.opening(.init(deposit: 10_000), edit: { $0.denyList = [Self.payee] })).0 == .fetchChannelOpenRefused)
        #expect(try code(Self.opening(.init(deposit: 10_000), edit: { $0.allowList = [Fixture.forgerKey.address] })).0 == .fetchChannelOpenRefused)
        #expect(try code(Self.opening(.init(deposit: 10_000), decimals: 18)).0 == .fetchChannelOpenRefused)
        #expect(try code(Self.opening(.init(deposit: 10_000), edit: { $0.maxPerPayment = 249 })).0 == .fetchChannelOpenRefused)
        // Above the caller's maximum: 1482 before any channel is considered.
        #expect(try Self.refusal(Self.opening(.init(deposit: 10_000)), max: 249)?.code == .fetchPriceAboveMax)
    }

    @Test func anL402InvoiceIsPreferredToOpeningAChannel() throws {
        let offers = try Self.offers(l402: true)
        let opening = Self.opening(.init(deposit: 10_000))
        guard case .l402(_, let price) = try PaymentChoice.choose(offers, maxPrice: .init(amount: 1_000), channels: [], l402Price: 300,
                                                                  opening: opening) else {
            Issue.record("L402 not preferred"); return
        }
        #expect(price == 300)
        // An invoice the node cannot pay (no routing) or above the maximum: the channel is opened.
        guard case .openChannel = try PaymentChoice.choose(offers, maxPrice: .init(amount: 1_000), channels: [], l402Price: nil, opening: opening),
              case .openChannel = try PaymentChoice.choose(offers, maxPrice: .init(amount: 299), channels: [], l402Price: 300, opening: opening) else {
            Issue.record("no channel opened"); return
        }
    }

    @Test func aRetryOfAnOpeningEntryNeverOpensASecondChannel() {
        #expect(FetchEntry.openingStep(channel: nil) == .open)  // never proposed durably: propose the same id again
        #expect(FetchEntry.openingStep(channel: .proposed) == .awaitAnswer)
        #expect(FetchEntry.openingStep(channel: .open) == .pay)
        #expect(FetchEntry.openingStep(channel: .active) == .pay)
        for state in [ChannelState.closing, .disputed, .settled] { #expect(FetchEntry.openingStep(channel: state) == .refused) }
    }

    @Test func anOpeningEntryRoundTrips() throws {
        let challenge = PaymentChallenge(requirements: [Fixture.requirements()])
        let offers = try PaymentOffers.parse(headers: challenge.headers, body: challenge.body)
        let r = try #require(offers.requirements.first)
        var entry = FetchEntry(key: "k-1", method: "GET", url: "http://127.0.0.1:1/x", requirement: r, requirements: try #require(r.paymentRequirements),
                               channel: Fixture.channelID.description, nonce: 1, now: 5)
        entry.status = .opening
        entry.openSalt = "0x" + String(repeating: "ab", count: 32)
        entry.deposit = "10000"
        let back = try FetchEntry.decode(entry.encoded())
        #expect(back == entry && back.openSaltBytes == [UInt8](repeating: 0xab, count: 32) && !back.isFinal)
        entry.openSalt = "0x" + String(repeating: "ab", count: 31)
        #expect(entry.openSaltBytes == nil)
        entry.openSalt = "0x" + String(repeating: "zz", count: 32)
        #expect(entry.openSaltBytes == nil)
    }
}
