import Foundation
import PaymeshChannels
import PaymeshMessages
import PaymeshMux
import PaymeshNode
import PaymeshTestSupport
import Testing

/// Coalesced acknowledgements on a real node (Specs/messages.md §4.4.1, Specs/streams.md): a payer
/// written from Specs/ (`HostilePayer`) opens three channels and sends vouchers of all three in one
/// write. On `/paymesh/payments/2` the node answers with PAYMENT_ACKs carrying `acks`; on
/// `/paymesh/payments/1` (a peer that does not know them) with one plain PAYMENT_ACK per channel state.
@Suite(.serialized) struct CoalescedAckNodeTests {
    static let usdc = try! Asset(id: "USDC", decimals: 6)

    /// The acks the node sends for `perChannel` vouchers on each of three channels, sent in one write,
    /// until every channel's last voucher is acknowledged.
    static func acks(over protocolID: StreamProtocolID, perChannel: UInt64) async throws -> [PaymentAck] {
        let payee = try await RunningNode.start()
        defer { removeDirectory(payee.directory) }
        let payer = try await HostilePayer.connect(to: payee, protocolID: protocolID)
        var answers = payer.messages.makeAsyncIterator()
        let opens = try (0..<3).map { _ in try payer.open(to: payee.started.id, deposit: 1_000, asset: Self.usdc) }
        try await payer.send(opens.map(Message.paymentOpen))
        var opened = Set<ChannelID>()
        while opened.count < 3, let ack = await answers.nextAck() {
            #expect(ack.status == .accepted, "\(ack)")
            for a in ack.acknowledgements { opened.insert(a.channelID) }
        }
        #expect(opened == Set(opens.map(\.channelID)))

        var vouchers: [Message] = []
        for nonce in 1...perChannel {
            for open in opens {
                vouchers.append(.paymentUpdate(try PaymentUpdate(channelID: open.channelID, nonce: nonce, amount: Amount(UInt128(nonce) * 10),
                                                                 timestamp: open.timestamp, signature: .unsigned)
                        .signed(with: payer.key, domain: SigningDomain(chainID: 0))))
            }
        }
        try await payer.send(vouchers)
        var acked: [ChannelID: UInt64] = [:]
        var received: [PaymentAck] = []
        while acked.values.filter({ $0 == perChannel }).count < 3, let ack = await answers.nextAck() {
            #expect(ack.status == .accepted, "\(ack)")
            received.append(ack)
            for a in ack.acknowledgements { acked[a.channelID] = max(acked[a.channelID] ?? 0, a.nonce) }
        }
        #expect(acked == Dictionary(uniqueKeysWithValues: opens.map { ($0.channelID, perChannel) }))
        // What the node acknowledged is durable: each channel holds its last voucher.
        for open in opens {
            #expect(try await payee.call("channel.get", ["channel": .string(open.channelID.description)])["paid"] == .string("\(perChannel * 10)"))
        }
        await payer.close()
        await payee.stop()
        return received
    }

    @Test func aVersion2PeerGetsCoalescedAcks() async throws {
        try await withTimeout(60) {
            let acks = try await Self.acks(over: PaymentsProtocol.idV2, perChannel: 5)
            // 15 vouchers over 3 channels: fewer ack messages than channels × vouchers, and at least
            // one of them covers several channels.
            #expect(acks.count < 15, "\(acks.count) acks")
            #expect(acks.contains { Set($0.acknowledgements.map(\.channelID)).count > 1 }, "\(acks)")
        }
    }

    @Test func aVersion1PeerStillGetsOneAckPerChannelState() async throws {
        try await withTimeout(60) {
            let acks = try await Self.acks(over: PaymentsProtocol.id, perChannel: 5)
            #expect(!acks.isEmpty)
            let plain = acks.allSatisfy { $0.acks.isEmpty }
            #expect(plain, "no `acks` field on /paymesh/payments/1")
        }
    }
}
