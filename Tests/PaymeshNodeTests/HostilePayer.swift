import Foundation
import NIOCore
import NIOPosix
import PaymeshCrypto
import PaymeshMessages
import PaymeshMux
import PaymeshNode
import PaymeshTransport

/// A payer that follows only Specs/ (transport.md, messages.md, channels.md §3): it connects to a
/// real node over loopback with its own identity, opens a `/paymesh/payments/1` stream and sends
/// whatever PAYMENT_OPENs a test crafts, signed by itself, with no channel machine and no ledger
/// of its own behind them. Everything the node answers on the stream arrives in `messages`.
final class HostilePayer: Sendable {
    let key: IdentityKey
    let endpoint: PaymeshEndpoint
    let connection: PaymeshConnection
    let stream: PaymeshStream
    let messages: AsyncStream<Message>
    private let reader: Task<Void, Never>

    var address: EthereumAddress { key.address }

    /// Opens a `protocolID` stream (`/paymesh/payments/1` by default: a peer that knows no later version).
    static func connect(to node: RunningNode, key: IdentityKey = .generate(),
                        protocolID: StreamProtocolID = PaymentsProtocol.id) async throws -> HostilePayer {
        let endpoint = try PaymeshEndpoint(configuration: .init(identity: key), group: MultiThreadedEventLoopGroup.singleton)
        let connection = try await endpoint.connect(host: node.started.listen.host, port: node.started.listen.port,
                                                    expecting: node.started.id)
        let stream = try await connection.openStream(protocolID)
        return HostilePayer(key: key, endpoint: endpoint, connection: connection, stream: stream)
    }

    private init(key: IdentityKey, endpoint: PaymeshEndpoint, connection: PaymeshConnection, stream: PaymeshStream) {
        self.key = key
        self.endpoint = endpoint
        self.connection = connection
        self.stream = stream
        let (messages, continuation) = AsyncStream<Message>.makeStream()
        self.messages = messages
        reader = Task {
            var codec = PaymentStreamCodec()
            do {
                for try await chunk in stream.inbound {
                    codec.feed(chunk)
                    while let m = try codec.nextMessage() { continuation.yield(m) }
                }
            } catch {}
            continuation.finish()
        }
    }

    /// A PAYMENT_OPEN to `payee` signed by this payer (messages.md §5.2, channels.md §3.1).
    func open(to payee: EthereumAddress, deposit: UInt128, asset: Asset, openNonce: UInt64 = 0,
              now: UInt64 = UInt64(Date().timeIntervalSince1970 * 1_000)) throws -> PaymentOpen {
        let salt = (0..<32).map { _ in UInt8.random(in: 0...255) }
        var preimage = Array("paymesh/channel/v1".utf8) + address.bytes + payee.bytes
        withUnsafeBytes(of: openNonce.bigEndian) { preimage += $0 }
        preimage += salt
        let id = try ChannelID(Keccak256.hash(preimage))
        return try PaymentOpen(channelID: id, sender: address, receiver: payee, asset: asset, totalDeposit: Amount(deposit),
                               challengePeriodSeconds: 3_600, settlement: "local-ledger", chainID: 0, verifyingContract: .zero,
                               nonce: openNonce, timestamp: now, signature: .unsigned).signed(with: key)
    }

    /// Sends `messages` as one write (one chunk the node reads at once, when it fits).
    func send(_ messages: [Message]) async throws {
        var bytes: [UInt8] = []
        for m in messages { bytes += try PaymentFrame.encode(m) }
        try await stream.write(ByteBuffer(bytes: bytes))
    }

    func close() async {
        stream.close()
        await connection.close()
        reader.cancel()
        await endpoint.shutdown()
    }
}

extension AsyncStream<Message>.Iterator {
    /// The next PAYMENT_ACK the node sent (other messages are skipped); nil when the stream ended.
    mutating func nextAck() async -> PaymentAck? {
        while let m = await next() {
            if case .paymentAck(let ack) = m { return ack }
        }
        return nil
    }
}
