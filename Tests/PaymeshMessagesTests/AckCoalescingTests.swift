import NIOCore
import PaymeshMessages
import Testing

/// Coalesced acknowledgements (Specs/messages.md §4.4.1): the `acks` field, its limits, and the
/// pure folding a payee applies to what it writes on a `/paymesh/payments/2` stream.
@Suite struct AckCoalescingTests {
    static func channel(_ n: UInt8) -> ChannelID { try! ChannelID([UInt8](repeating: n, count: 32)) }
    static func accepted(_ c: UInt8, _ nonce: UInt64) -> Message {
        .paymentAck(try! PaymentAck(channelID: channel(c), nonce: nonce, status: .accepted))
    }
    static func entries(_ m: Message) -> [PaymentAck.Entry] {
        guard case .paymentAck(let a) = m else { return [] }
        return a.acknowledgements.map { PaymentAck.Entry(channelID: $0.channelID, nonce: $0.nonce) }
    }

    @Test func aCoalescedAckRoundTripsWholeAndDripFed() throws {
        let ack = try PaymentAck(channelID: Self.channel(1), nonce: 9, status: .accepted,
                                 acks: (2...200).map { PaymentAck.Entry(channelID: Self.channel(UInt8($0)), nonce: UInt64($0) << 40) })
        let frame = try PaymentFrame.encode(.paymentAck(ack))
        #expect(try decodeFrame(frame).get() == .paymentAck(ack))
        var codec = PaymentStreamCodec()
        var decoded: [Message] = []
        for byte in frame {
            codec.feed([byte])
            while let m = try codec.nextMessage() { decoded.append(m) }
        }
        #expect(decoded == [.paymentAck(ack)])
        #expect(ack.acknowledgements.count == 200)
        #expect(ack.acknowledgements.allSatisfy { $0.status == .accepted && $0.acks.isEmpty })
        #expect(ack.acknowledgements.map(\.nonce) == [9] + (2...200).map { UInt64($0) << 40 })
    }

    @Test func theLargestCoalescedAckFitsTheDecoderLimits() throws {
        let entries = (0..<MessageLimits.ackEntries).map { PaymentAck.Entry(channelID: Self.channel(UInt8($0 % 256)), nonce: .max) }
        let ack = try PaymentAck(channelID: Self.channel(0), nonce: .max, status: .accepted, reason: String(repeating: "r", count: 256),
                                 acks: entries)
        #expect(try decodeFrame(try PaymentFrame.encode(.paymentAck(ack))).get() == .paymentAck(ack))
        #expect(throws: MessageError.self) {
            try PaymentAck(channelID: Self.channel(0), nonce: 1, status: .accepted, acks: entries + [entries[0]])
        }
        #expect(throws: MessageError.self) {
            try PaymentAck(channelID: Self.channel(0), nonce: 1, status: .rejected, acks: [entries[0]])
        }
    }

    /// One run of accepted acks over three channels becomes one message holding each channel once,
    /// at its first position, with its highest nonce; a lower nonce later in the run adds nothing.
    @Test func aRunBecomesOneAckWithTheHighestNoncePerChannel() {
        let run = [Self.accepted(1, 1), Self.accepted(2, 1), Self.accepted(3, 1), Self.accepted(1, 2),
                   Self.accepted(2, 2), Self.accepted(1, 3), Self.accepted(2, 1)]
        let out = PaymentAck.coalesced(run)
        #expect(out.count == 1)
        #expect(Self.entries(out[0]) == [.init(channelID: Self.channel(1), nonce: 3), .init(channelID: Self.channel(2), nonce: 2),
                                         .init(channelID: Self.channel(3), nonce: 1)])
        #expect(PaymentAck.coalesced([Self.accepted(4, 7)]) == [Self.accepted(4, 7)], "a lone ack stays a plain ack")
        #expect(PaymentAck.coalesced([]) == [])
    }

    /// Anything else — a rejection, an ack with a reason, an echoed voucher, an ERROR — keeps its
    /// place and ends the run: nothing is moved across it.
    @Test func otherMessagesSplitRuns() throws {
        let rejected = Message.paymentAck(try PaymentAck(channelID: Self.channel(1), nonce: 4, status: .rejected, errorCode: .nonceTooOld))
        let reasoned = Message.paymentAck(try PaymentAck(channelID: Self.channel(2), nonce: 5, status: .accepted, reason: "again"))
        let error = Message.error(try ErrorMessage(code: .unsupportedMessage, message: "x"))
        let input = [Self.accepted(1, 1), Self.accepted(2, 1), rejected, Self.accepted(1, 2), Self.accepted(3, 1), reasoned,
                     Self.accepted(2, 6), error, Self.accepted(1, 3)]
        let out = PaymentAck.coalesced(input)
        #expect(out.count == 7)
        #expect(Self.entries(out[0]) == [.init(channelID: Self.channel(1), nonce: 1), .init(channelID: Self.channel(2), nonce: 1)])
        #expect(out[1] == rejected)
        #expect(Self.entries(out[2]) == [.init(channelID: Self.channel(1), nonce: 2), .init(channelID: Self.channel(3), nonce: 1)])
        #expect(out[3] == reasoned)
        #expect(out[4] == Self.accepted(2, 6))
        #expect(out[5] == error)
        #expect(out[6] == Self.accepted(1, 3))
        // Expanding gives back every acknowledgement in order (duplicates of a channel folded).
        #expect(PaymentAck.expanded(out).count == 9)
    }

    /// A run longer than one message holds is split: 1 + `ackEntries` acknowledgements per message.
    @Test func aLongRunIsSplitAtTheEntryLimit() throws {
        let perMessage = MessageLimits.ackEntries + 1
        let run = (0..<(perMessage + 5)).map { i in
            Message.paymentAck(try! PaymentAck(channelID: try! ChannelID([UInt8(i & 0xff), UInt8(i >> 8)] + [UInt8](repeating: 0, count: 30)),
                                               nonce: UInt64(i) + 1, status: .accepted))
        }
        let out = PaymentAck.coalesced(run)
        #expect(out.count == 2)
        #expect(Self.entries(out[0]).count == perMessage && Self.entries(out[1]).count == 5)
        #expect(PaymentAck.expanded(out) == run)
        for m in out { #expect(try decodeFrame(try PaymentFrame.encode(m)).get() == m) }
    }

    @Test func expandingLeavesPlainMessagesAlone() throws {
        let plain = [Self.accepted(1, 1), Message.error(try ErrorMessage(code: .unsupportedMessage, message: "x"))]
        #expect(PaymentAck.expanded(plain) == plain)
    }
}
