import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshPay402
import Testing

/// The verifier in front of the real payee channel (Specs/http402.md §4.3): a verified voucher is
/// what the channel engine accepts and persists, and once it holds it the same proof is a replay.
@Suite struct ChannelEngineTests {
    @Test func theVerifiedVoucherIsPersistedByThePayeeChannelThenReplayIsRefused() throws {
        let now: UInt64 = 1_767_225_600_000
        let open = try PaymentOpen(
            channelID: Fixture.channelID, sender: Fixture.payerKey.address, receiver: Fixture.payeeKey.address,
            asset: Fixture.asset, totalDeposit: Amount(1_000), challengePeriodSeconds: 3_600,
            settlement: LedgerRules.localLedgerID, chainID: 84_532, verifyingContract: Fixture.domain.verifyingContract!,
            nonce: 0, timestamp: now, signature: Signature65([UInt8](repeating: 1, count: 64) + [27])
        ).signed(with: Fixture.payerKey)
        guard case .accepted(var channel, _) = PayeeChannel.accept(open, key: Fixture.payeeKey, policy: PayeeOpenPolicy(),
                                                                   authenticatedPeer: Fixture.payerKey.address, now: now) else {
            Issue.record("the payee refused the open"); return
        }
        let requirements = Fixture.requirements()
        let header = ChannelSchemeProof.paymentSignature(Fixture.voucher(nonce: 1, amount: 250), paying: requirements)
        func verify(_ header: HTTPHeaderField, _ channel: PayeeChannel) throws(Pay402Error) -> AcceptedVoucher {
            guard case .channel(let proof)? = try PaymentProof.parse(headers: [header]) else { throw .noPayment }
            return try PaymentVerifier.verify(proof, requirements: requirements, channel: ChannelView(channel))
        }

        let accepted = try verify(header, channel)
        let actions = channel.receive(.paymentUpdate(accepted.voucher), now: now)
        guard case .persist(let snapshot) = actions.first else { Issue.record("no persist first: \(actions)"); return }
        #expect(snapshot.latestVoucher == accepted.voucher)
        #expect(channel.receivedAmount == 250)

        #expect(refusal { () throws(Pay402Error) in try verify(header, channel) } == .proofReplayed)
        let next = ChannelSchemeProof.xPayment(Fixture.voucher(nonce: 2, amount: 500), paying: requirements)
        #expect(try verify(next, channel).increment == 250)
        // The deposit (1,000) bounds what the channel can still pay.
        let tooMuch = ChannelSchemeProof.xPayment(Fixture.voucher(nonce: 2, amount: 1_001), paying: requirements)
        #expect(refusal { () throws(Pay402Error) in try verify(tooMuch, channel) } == .insufficientFunds)
    }
}
