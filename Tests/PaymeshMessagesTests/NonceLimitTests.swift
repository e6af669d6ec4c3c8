import PaymeshMessages
import Testing

/// Issue 7 item 10: a voucher nonce of 2^64 − 1 was legal on the wire but not storable (SQLite
/// INTEGER), so a payee accepted it in memory, failed to save it and wedged the channel. The wire
/// limit is now the store's: 2^63 − 1 (Specs/messages.md §4.2, §4.3).
@Suite struct NonceLimitTests {
    static let channel = try! ChannelID([UInt8](repeating: 7, count: 32))

    static func decode(_ m: Message) throws(MessageError) -> Message? {
        var codec = PaymentStreamCodec()
        codec.feed(try PaymentFrame.encode(m))
        return try codec.nextMessage()
    }

    @Test func voucherNonceAbove2To63Minus1IsMalformed() throws {
        for nonce in [UInt64.max, UInt64(Int64.max) + 1] {
            let v = try PaymentUpdate(channelID: Self.channel, nonce: nonce, amount: Amount(5), timestamp: 1, signature: .unsigned)
            let error = #expect(throws: MessageError.self) { try Self.decode(.paymentUpdate(v)) }
            #expect(error?.code == .malformedMessage)
            #expect(error?.closesStream == false) // the stream, and the channel, keep working
        }
        let top = try PaymentUpdate(channelID: Self.channel, nonce: UInt64(Int64.max), amount: Amount(5), timestamp: 1, signature: .unsigned)
        #expect(try Self.decode(.paymentUpdate(top)) == .paymentUpdate(top))
        #expect(MessageLimits.maxVoucherNonce == 9_223_372_036_854_775_807)
    }

    @Test func closeFinalNonceAbove2To63Minus1IsMalformed() throws {
        let c = try PaymentClose(channelID: Self.channel, finalNonce: .max, finalAmount: Amount(5), cooperative: false, timestamp: 1,
                                 signature: .unsigned)
        let error = #expect(throws: MessageError.self) { try Self.decode(.paymentClose(c)) }
        #expect(error?.code == .malformedMessage)
    }
}
