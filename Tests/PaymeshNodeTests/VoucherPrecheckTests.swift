import Foundation
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import PaymeshTestSupport
import Testing

/// Voucher signatures verified before the service's turn (`VoucherPrecheck`): the verdicts must be
/// exactly what the channel machine would decide, and no verdict may let a voucher in that the
/// machine would refuse.
@Suite("Voucher signatures checked before the turn")
struct VoucherPrecheckTests {
    typealias B = ChannelBookTests

    /// A book with one open channel from `B.payer`, the payer's machine, and the payee's terms.
    static func opened() throws -> (ChannelBook, PayerChannel, ChannelTerms) {
        var book = B.book()
        let payer = try B.openOne(in: &book, salt: 7)
        let terms = try #require(book.payees[payer.channelID]).terms
        return (book, payer, terms)
    }

    static func voucher(_ id: ChannelID, nonce: UInt64, amount: UInt128, key: IdentityKey,
                        domain: SigningDomain = SigningDomain(chainID: 0)) throws -> PaymentUpdate {
        try PaymentUpdate(channelID: id, nonce: nonce, amount: Amount(amount), timestamp: B.t0, signature: .unsigned)
            .signed(with: key, domain: domain)
    }

    static func acks(_ actions: [BookAction], _ id: ChannelID) -> [PaymentAck] { B.acks(B.channelActions(actions, id)) }

    @Test func aValidVoucherIsAcceptedOnThePrecheckVerdict() throws {
        var (book, payer, terms) = try Self.opened()
        let precheck = VoucherPrecheck()
        precheck.learn(terms)
        var spending = SpendingGuard(policy: .unlimited)
        guard case .send(.paymentUpdate(let v)) = try payer.pay(amount: 5, now: B.t0, policy: &spending)[1] else {
            Issue.record("no voucher sent"); return
        }
        let verdicts = precheck.check([.paymentUpdate(v)], from: B.payerAddress)
        #expect(verdicts.verdict(.paymentUpdate(v), terms: terms) == .valid)
        let actions = book.onReceived([.paymentUpdate(v)], from: B.payerAddress, now: B.t0, balances: [:], verdicts: verdicts)
        let ack = try #require(Self.acks(actions, v.channelID).first)
        #expect(ack.status == .accepted && ack.nonce == 1)
        #expect(book.payees[v.channelID]?.latestVoucher == v)
    }

    /// Hostile: a voucher signed by another key gets an invalid verdict before the turn and is
    /// refused with 1101, nothing stored, exactly as when the machine verifies it itself.
    @Test func aForgedVoucherIsRefusedWith1101EitherWay() throws {
        let (start, payer, terms) = try Self.opened()
        let forged = try Self.voucher(payer.channelID, nonce: 1, amount: 900, key: B.outsider)
        let precheck = VoucherPrecheck()
        precheck.learn(terms)
        let verdicts = precheck.check([.paymentUpdate(forged)], from: B.payerAddress)
        guard case .invalid? = verdicts.verdict(.paymentUpdate(forged), terms: terms) else {
            Issue.record("the forged voucher got no invalid verdict"); return
        }
        for v in [verdicts, VoucherVerdicts()] {
            var book = start
            let actions = book.onReceived([.paymentUpdate(forged)], from: B.payerAddress, now: B.t0, balances: [:], verdicts: v)
            let ack = try #require(Self.acks(actions, forged.channelID).first)
            #expect(ack.status == .rejected && ack.errorCode == .invalidSignature, "\(ack)")
            #expect(!B.channelActions(actions, forged.channelID).contains { if case .persist = $0 { true } else { false } })
            #expect(book.payees[forged.channelID]?.latestVoucher == nil)
        }
    }

    /// Hostile: a verdict computed under other terms (the same channel id and payer, another
    /// signing domain) is not used: the machine verifies the voucher itself and refuses it.
    @Test func aVerdictUnderOtherTermsIsIgnored() throws {
        var (book, payer, terms) = try Self.opened()
        let otherOpen = try PaymentOpen(channelID: terms.channelID, sender: terms.payer, receiver: terms.payee, asset: terms.asset,
                                        totalDeposit: terms.open.totalDeposit, challengePeriodSeconds: terms.open.challengePeriodSeconds,
                                        settlement: terms.open.settlement, chainID: 99, verifyingContract: terms.open.verifyingContract,
                                        nonce: terms.open.nonce, timestamp: terms.open.timestamp, signature: .unsigned).signed(with: B.payer)
        let other = ChannelTerms(open: otherOpen)
        #expect(other != terms)
        // Signed by the channel's payer, but in the other domain: valid under `other` only.
        let v = try Self.voucher(payer.channelID, nonce: 1, amount: 10, key: B.payer, domain: other.domain)
        let precheck = VoucherPrecheck()
        precheck.learn(other)
        let verdicts = precheck.check([.paymentUpdate(v)], from: B.payerAddress)
        #expect(verdicts.checked(v.channelID))
        #expect(verdicts.verdict(.paymentUpdate(v), terms: other) == .valid)
        #expect(verdicts.verdict(.paymentUpdate(v), terms: terms) == nil)
        let actions = book.onReceived([.paymentUpdate(v)], from: B.payerAddress, now: B.t0, balances: [:], verdicts: verdicts)
        let ack = try #require(Self.acks(actions, v.channelID).first)
        #expect(ack.status == .rejected && ack.errorCode == .invalidSignature, "\(ack)")
        #expect(book.payees[v.channelID]?.latestVoucher == nil)
    }

    /// Hostile: a peer that is not the channel's payer gets nothing verified for it (the book
    /// refuses it as not the payer before any signature matters), and a verdict is bound to the
    /// exact voucher: the same nonce and amount with another signature has none.
    @Test func verdictsAreForThePayerAndTheExactVoucher() throws {
        let (_, payer, terms) = try Self.opened()
        let precheck = VoucherPrecheck()
        precheck.learn(terms)
        let good = try Self.voucher(payer.channelID, nonce: 1, amount: 10, key: B.payer)
        #expect(precheck.check([.paymentUpdate(good)], from: B.outsiderAddress).isEmpty)
        let verdicts = precheck.check([.paymentUpdate(good)], from: B.payerAddress)
        let twin = try Self.voucher(payer.channelID, nonce: 1, amount: 10, key: B.outsider)
        #expect(verdicts.checked(good.channelID))
        #expect(verdicts.verdict(.paymentUpdate(twin), terms: terms) == nil)
        // Unknown and forgotten channels get no verdict: the machine verifies.
        precheck.forget(terms.channelID)
        #expect(precheck.check([.paymentUpdate(good)], from: B.payerAddress).isEmpty)
        #expect(precheck.count == 0)
    }

    /// A chunk interleaving the vouchers of two channels: the precheck verifies one voucher per
    /// channel (its last), which covers the channel's earlier ones (Specs/channels.md §4.2.1); every
    /// voucher is accepted and each channel holds its payer-signed last voucher.
    @Test func oneSignaturePerChannelCoversAChunk() throws {
        var book = B.book()
        let a = try B.openOne(in: &book, salt: 7), b = try B.openOne(in: &book, salt: 8)
        let precheck = VoucherPrecheck()
        for id in [a.channelID, b.channelID] { precheck.learn(try #require(book.payees[id]).terms) }
        var chunk: [Message] = []
        for n in UInt64(1)...4 {
            for id in [a.channelID, b.channelID] { chunk.append(.paymentUpdate(try Self.voucher(id, nonce: n, amount: UInt128(n) * 10, key: B.payer))) }
        }
        let verdicts = precheck.check(chunk, from: B.payerAddress)
        #expect(verdicts.entries.count == 2 && verdicts.entries.values.allSatisfy { $0.voucher.nonce == 4 && $0.verdict == .valid })
        let actions = book.onReceived(chunk, from: B.payerAddress, now: B.t0, balances: [:], verdicts: verdicts)
        for id in [a.channelID, b.channelID] {
            #expect(Self.acks(actions, id).map(\.nonce) == [1, 2, 3, 4] && Self.acks(actions, id).allSatisfy { $0.status == .accepted })
            #expect(book.payees[id]?.latestVoucher?.nonce == 4 && book.payees[id]?.receivedAmount == 40)
        }
    }

    /// Hostile: a channel with another message in the chunk (here its PAYMENT_CLOSE between two
    /// vouchers) is not handled as a run: each voucher is verified on its own and a forged one is
    /// refused with 1101 even though the channel's last voucher is valid.
    @Test func aChunkMixingAChannelsMessagesIsVerifiedVoucherByVoucher() throws {
        var (book, payer, terms) = try Self.opened()
        let precheck = VoucherPrecheck()
        precheck.learn(terms)
        var spending = SpendingGuard(policy: .unlimited)
        let forged = try Self.voucher(payer.channelID, nonce: 1, amount: 20, key: B.outsider)
        let good = try Self.voucher(payer.channelID, nonce: 2, amount: 30, key: B.payer)
        _ = try payer.pay(amount: 30, now: B.t0, policy: &spending)
        let close = try #require(payer.closeCooperatively(now: B.t0).compactMap { a -> PaymentClose? in
            if case .send(.paymentClose(let c)) = a { c } else { nil }
        }.first)
        let chunk: [Message] = [.paymentUpdate(forged), .paymentClose(close), .paymentUpdate(good)]
        #expect(ChannelBook.voucherRuns(chunk).isEmpty)
        let verdicts = precheck.check(chunk, from: B.payerAddress)
        let actions = book.onReceived(chunk, from: B.payerAddress, now: B.t0, balances: [:], verdicts: verdicts)
        let first = try #require(Self.acks(actions, payer.channelID).first)
        #expect(first.nonce == 1 && first.status == .rejected && first.errorCode == .invalidSignature, "\(first)")
        #expect(book.payees[payer.channelID]?.latestVoucher != forged)
    }

    /// On a real node: once the precheck knows a channel, a chunk mixing vouchers the payer signed
    /// and one a forger signed is answered voucher by voucher — the good ones accepted, the forged
    /// one refused with 1101 — and only what the payer signed is stored.
    @Test func aRealNodeRefusesAForgedVoucherAmongGoodOnes() async throws {
        try await withTimeout(60) {
            let payee = try await RunningNode.start()
            defer { removeDirectory(payee.directory) }
            let payer = try await HostilePayer.connect(to: payee)
            var answers = payer.messages.makeAsyncIterator()
            let open = try payer.open(to: payee.started.id, deposit: 1_000, asset: CoalescedAckNodeTests.usdc)
            try await payer.send([.paymentOpen(open)])
            #expect(try #require(await answers.nextAck()).status == .accepted)
            let id = open.channelID
            try await payer.send([.paymentUpdate(try Self.voucher(id, nonce: 1, amount: 10, key: payer.key))])
            #expect(try #require(await answers.nextAck()).status == .accepted)
            // One write: 2 and 3 signed by the payer, 4 by a forger, 5 by the payer again.
            let forger = IdentityKey.generate()
            try await payer.send([
                .paymentUpdate(try Self.voucher(id, nonce: 2, amount: 20, key: payer.key)),
                .paymentUpdate(try Self.voucher(id, nonce: 3, amount: 30, key: payer.key)),
                .paymentUpdate(try Self.voucher(id, nonce: 4, amount: 900, key: forger)),
                .paymentUpdate(try Self.voucher(id, nonce: 5, amount: 50, key: payer.key)),
            ])
            var rejected: [PaymentAck] = []
            var accepted: UInt64 = 0
            while accepted < 5, let ack = await answers.nextAck() {
                for a in ack.acknowledgements {
                    if ack.status == .accepted { accepted = max(accepted, a.nonce) } else { rejected.append(ack) }
                }
            }
            #expect(accepted == 5)
            #expect(rejected.count == 1 && rejected.first?.nonce == 4 && rejected.first?.errorCode == .invalidSignature, "\(rejected)")
            #expect(try await payee.call("channel.get", ["channel": .string(id.description)])["paid"] == "50")
            await payer.close()
            await payee.stop()
        }
    }
}
