import PaymeshChannels
import PaymeshMessages
import Testing

/// Issue 7 item 10: a voucher nonce of 2^64 − 1 was accepted in memory, failed to save ("exceeds
/// 2^63 − 1") and wedged the channel (every later voucher answered 1105). The payee now refuses
/// a nonce its store cannot keep with 1501, writing nothing, and the channel keeps working.
@Suite struct NonceLimitTests {
    @Test func aVoucherNonceAbove2To63Minus1IsRefusedAndTheChannelKeepsWorking() throws {
        var pair = try Pair()
        try pair.pay(10)
        let terms = pair.payee!.terms
        for nonce in [UInt64.max, UInt64(Int64.max) + 1] {
            var payee = pair.payee!
            let actions = payee.receive(.paymentUpdate(try voucher(terms, nonce: nonce, amount: 20)), now: pair.now)
            #expect(actions.persisted.isEmpty)
            #expect(actions.acks.map(\.status) == [.rejected] && actions.acks.first?.errorCode == .malformedMessage)
            #expect(payee.latestVoucher?.nonce == 1)
            pair.payee = payee
        }
        // The largest storable nonce is fine, and so is the payer's next voucher afterwards.
        var payee = pair.payee!
        let top = payee.receive(.paymentUpdate(try voucher(terms, nonce: MessageLimits.maxVoucherNonce, amount: 30)), now: pair.now)
        #expect(top.acks.map(\.status) == [.accepted])
        #expect(payee.latestVoucher?.nonce == MessageLimits.maxVoucherNonce)
    }

    @Test func aCloseAbove2To63Minus1IsRefused() throws {
        var pair = try Pair()
        try pair.pay(10)
        let terms = pair.payee!.terms
        let close = try PaymentClose(channelID: terms.channelID, finalNonce: .max, finalAmount: Amount(10), cooperative: false,
                                     timestamp: pair.now, signature: .unsigned).signed(with: K.payer, domain: terms.domain)
        var payee = pair.payee!
        let actions = payee.receive(.paymentClose(close), now: pair.now)
        #expect(actions.acks.first?.errorCode == .malformedMessage)
        #expect(payee.state == pair.payee!.state)
    }
}
