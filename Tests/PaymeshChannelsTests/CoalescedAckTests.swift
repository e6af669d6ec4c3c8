import PaymeshChannels
import PaymeshMessages
import Testing

/// The payer side of coalesced acknowledgements (Specs/messages.md §4.4.1) at machine level: the
/// payees of three channels accept interleaved vouchers; their acks, folded into one PAYMENT_ACK
/// and sent through the stream codec, leave every payer exactly where the separate acks would.
@Suite struct CoalescedAckTests {
    /// Three channels (distinct salts), each paid `perChannel` times round-robin; the vouchers are
    /// delivered to the payees interleaved and their acks collected in that order.
    static func interleaved(perChannel: Int) throws -> (pairs: [Pair], acks: [Message]) {
        var pairs = try (1...3).map { i in try Pair(salt: [UInt8](repeating: UInt8(i), count: 32)) }
        for _ in 0..<perChannel {
            for i in pairs.indices {
                var pair = pairs[i], policy = pair.policy
                let now = pair.now
                let actions = try pair.payer.pay(amount: 5, taskID: nil, now: now, policy: &policy)
                pair.policy = policy
                pair.runPayer(actions)
                pairs[i] = pair
            }
        }
        var acks: [Message] = []
        for round in 0..<perChannel {
            for i in pairs.indices {
                let voucher = pairs[i].toPayee[round]
                pairs[i].deliverToPayee(voucher)
                acks += pairs[i].toPayer
                pairs[i].toPayer = []
            }
        }
        for i in pairs.indices { pairs[i].toPayee = [] }
        return (pairs, acks)
    }

    /// Hands an ack to the payer of its channel.
    static func deliver(_ m: Message, to pairs: inout [Pair]) {
        guard case .paymentAck(let a) = m, let i = pairs.firstIndex(where: { $0.payer.channelID == a.channelID }) else {
            Issue.record("not an ack of a known channel: \(m)")
            return
        }
        var pair = pairs[i]
        let now = pair.now
        let actions = pair.payer.receive(m, now: now)
        pair.runPayer(actions)
        pairs[i] = pair
    }

    @Test func aCoalescedAckActsLikeTheSeparateAcks() throws {
        let (pairs, acks) = try Self.interleaved(perChannel: 4)
        #expect(acks.count == 12)
        var separate = pairs, coalesced = pairs

        // Separate: every ack to its channel's payer, in order.
        for m in acks { Self.deliver(m, to: &separate) }

        // Coalesced: one message on the wire, expanded by the receiver and applied in one pass.
        let folded = PaymentAck.coalesced(acks)
        #expect(folded.count == 1)
        var codec = PaymentStreamCodec()
        for m in folded { codec.feed(try PaymentFrame.encode(m)) }
        var received: [Message] = []
        while let m = try codec.nextMessage() { received.append(m) }
        #expect(received == folded)
        let applied = PaymentAck.expanded(received)
        #expect(applied.count == 3, "one acknowledgement per channel, at its highest nonce")
        for m in applied { Self.deliver(m, to: &coalesced) }

        for (s, c) in zip(separate, coalesced) {
            #expect(c.payer.ackedNonce == 4 && c.payer.ackedAmount == 20)
            #expect(c.payer.snapshot == s.payer.snapshot)
            #expect(c.payer.unacknowledgedCount == 0 && s.payer.unacknowledgedCount == 0)
            // The separate acks notify once per voucher, the coalesced one once for all four.
            #expect(c.payerNotes.last == .paymentAcknowledged(c.payer.channelID, nonce: 4, cumulative: 20))
            #expect(s.payerNotes.last == c.payerNotes.last)
        }
    }
}
