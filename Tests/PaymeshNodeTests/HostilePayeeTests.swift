import Foundation
import NIOCore
import NIOPosix
import PaymeshChannels
import PaymeshConsole
import PaymeshCrypto
import PaymeshMessages
import PaymeshNode
import PaymeshTestSupport
import PaymeshTransport
import Testing

/// A payee written from Specs/ alone (transport.md, messages.md, channels.md) on the real
/// transport: it accepts the payer node's channel, acknowledges vouchers, and says whatever it
/// likes in PAYMENT_CLOSE. Issue 7 item 1.
final class HostilePayee: Sendable {
    let key: IdentityKey
    let endpoint: PaymeshEndpoint
    let listen: PeerEndpoint
    /// Every message the payer sent, in order.
    let received: AsyncStream<Message>
    private let continuation: AsyncStream<Message>.Continuation
    private let stream = NIOLockedValueBoxSendable<PaymeshStream?>(nil)

    var address: EthereumAddress { key.address }

    init(seed: UInt8) async throws {
        key = IdentityKey(privateKey: try .init(rawRepresentation: [UInt8](repeating: seed, count: 32)))
        endpoint = try PaymeshEndpoint(configuration: .init(identity: key, features: [PaymentsProtocol.feature], protocols: [PaymentsProtocol.id]),
                                      group: MultiThreadedEventLoopGroup.singleton)
        let bound = try await endpoint.listen(host: "127.0.0.1", port: 0)
        listen = PeerEndpoint(host: "127.0.0.1", port: bound.port!)
        (received, continuation) = AsyncStream.makeStream()
        let endpoint = self.endpoint, continuation = self.continuation, box = stream
        Task {
            for await connection in endpoint.inboundConnections {
                Task {
                    for await s in connection.inboundStreams where s.protocolID == PaymentsProtocol.id {
                        box.withLockedValue { $0 = s }
                        var codec = PaymentStreamCodec()
                        do {
                            for try await chunk in s.inbound {
                                codec.feed(chunk)
                                while let m = try codec.nextMessage() { continuation.yield(m) }
                            }
                        } catch {}
                    }
                }
            }
        }
    }

    func send(_ messages: [Message]) async throws {
        guard let s = stream.withLockedValue({ $0 }) else { throw NoStream() }
        var codec = PaymentStreamCodec()
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        for m in messages { try codec.write(m, into: &buffer) }
        try await s.write(buffer)
    }

    struct NoStream: Error {}

    func shutdown() async { await endpoint.shutdown() }
}

final class NIOLockedValueBoxSendable<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func withLockedValue<R>(_ body: (inout T) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(&value)
    }
}

@Suite(.serialized) struct HostilePayeeTests {
    static let usdc: [String: JSONValue] = ["asset": "USDC", "decimals": 6]

    /// Issue 7 item 1 over the wire: a payer node at (nonce 5, amount 50) receives from its payee a
    /// unilateral PAYMENT_CLOSE at (999, the whole deposit) signed only by the payee. The node
    /// refuses it (PAYMENT_ACK rejected 1004), the channel stays ACTIVE, and the close the payer
    /// then asks for settles at 50: its ledger never pays more than it signed.
    @Test func forgedUnilateralCloseIsRefusedAndTheLedgerPaysOnlyWhatWasSigned() async throws {
        try await withTimeout(120) {
            let hostile = try await HostilePayee(seed: 0x5a)
            let payer = try await RunningNode.start(peers: [hostile.listen])
            defer { removeDirectory(payer.directory) }
            let payeeID = hostile.address.description
            #expect(try await eventually { try await payer.connectedPeers() == [payeeID] })
            var fund = Self.usdc
            fund["amount"] = "2000000"
            _ = try await payer.call("ledger.fund", fund)

            var inbox = hostile.received.makeAsyncIterator()
            var params = Self.usdc
            params["peer"] = .string(payeeID)
            params["deposit"] = "1000000"
            params["challenge_period"] = 60
            async let opened = payer.call("channel.open", params)
            guard case .paymentOpen(let open)? = await inbox.next() else { Issue.record("no PAYMENT_OPEN"); return }
            let terms = ChannelTerms(open: open)
            try await hostile.send([.paymentAck(try PaymentAck(channelID: open.channelID, nonce: open.nonce, status: .accepted))])
            let channel = try #require(try await opened["channel"])

            // Five payments of 10, each acknowledged by the hostile payee.
            async let paid = payer.call("pay", ["channel": channel, "amount": "10", "count": 5])
            var acked = 0
            while acked < 5, let m = await inbox.next() {
                guard case .paymentUpdate(let v) = m else { continue }
                try await hostile.send([.paymentAck(try PaymentAck(channelID: v.channelID, nonce: v.nonce, status: .accepted))])
                acked += 1
            }
            #expect(try await paid["ackedAmount"] == "50")

            // The forged close: (999, whole deposit), signed by the payee only.
            let forged = try PaymentClose(channelID: terms.channelID, finalNonce: 999, finalAmount: Amount(1_000_000), cooperative: false,
                                          timestamp: UInt64(Date().timeIntervalSince1970 * 1_000), signature: .unsigned)
                .signed(with: hostile.key, domain: terms.domain)
            try await hostile.send([.paymentClose(forged)])
            var answer: PaymentAck?
            while answer == nil, let m = await inbox.next() {
                if case .paymentAck(let a) = m, a.nonce == 999 { answer = a }
            }
            #expect(answer?.status == .rejected)
            #expect(answer?.errorCode == .channelCloseMismatch)
            let state = try await payer.call("channel.get", ["channel": channel])
            #expect(state["state"] == "ACTIVE" && state["paid"] == "50")

            // The payer closes cooperatively; the hostile payee counter-signs what the payer proposes.
            async let closed = payer.call("channel.close", ["channel": channel, "mode": "cooperative", "wait": true])
            var proposal: PaymentClose?
            while proposal == nil, let m = await inbox.next() {
                if case .paymentClose(let c) = m { proposal = c }
            }
            let p = try #require(proposal)
            #expect(p.finalNonce == 5 && p.finalAmount.atomicUnits == 50)
            try await hostile.send([.paymentClose(try p.countersigned(with: hostile.key, domain: terms.domain))])
            #expect(try await closed["state"] == "SETTLED")
            // The payer's books: 2,000,000 − 50 (refund of 999,950 after the 1,000,000 lock).
            #expect(try await payer.call("balance", ["asset": "USDC"])["wallets"] == [["asset": "USDC", "decimals": 6, "amount": "1999950"]])
            let settled = try await payer.call("channel.get", ["channel": channel])
            #expect(settled["state"] == "SETTLED")
            await payer.stop()
            await hostile.shutdown()
        }
    }
}
