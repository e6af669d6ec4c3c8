import NIOCore
import PaymeshCrypto
import PaymeshMessages
import PaymeshTransport
import PaymeshStore

/// One payments stream (`/paymesh/payments/1` or `/2`) to a peer. Writes are queued in order
/// without waiting (the payer's unacknowledged-voucher window bounds what can be outstanding); reading runs in
/// `readLoop`, which decodes every complete frame of a chunk and hands them to the service in one
/// call (one actor hop per chunk, not per message).
final class PaymentLink: Sendable {
    /// At most this many messages of one stream are handed to the service per actor turn: a peer's
    /// burst (a flood of opens in one chunk) is handled in slices that queue behind the other peers'
    /// turns instead of running ahead of them. Equal to the payer's default sign batch.
    static let maxMessagesPerTurn = 256

    let id: UInt64
    let peer: EthereumAddress
    let stream: any PeerStream
    /// A `/paymesh/payments/2` stream: accepted acks written on it are coalesced (Specs/messages.md §4.4.1).
    let coalescesAcks: Bool
    /// Bytes and messages of this stream's protocol (`paymesh_stream_*_total`).
    let counters: NodeMetrics.StreamCounters

    init(id: UInt64, peer: EthereumAddress, stream: any PeerStream, metrics: NodeMetrics) {
        self.id = id
        self.peer = peer
        self.stream = stream
        coalescesAcks = PaymentsProtocol.coalescesAcks(stream.protocolID)
        counters = metrics.stream(stream.protocolID.description)
    }

    /// Writes `buffer`, which holds `messages` encoded messages.
    func write(_ buffer: ByteBuffer, messages: Int) {
        counters.bytesOut.increment(by: Int64(buffer.readableBytes))
        counters.messagesOut.increment(by: Int64(messages))
        stream.writeWithoutWaiting([buffer])
    }

    /// Reads until the stream ends. Malformed messages inside a good frame get ERROR (1501, or 1500
    /// for an unknown type) and reading continues; a bad length prefix gets ERROR 1501 and a reset.
    /// `turn` is told, once per received chunk, how many frames it held (well-formed or not), how
    /// many were malformed (with the first one's error) and how many ERROR replies were written.
    /// `precheck` verifies the chunk's voucher signatures here, before the service's turn (in
    /// parallel with the service handling the previous chunk); `deliver` gets its verdicts.
    func readLoop(precheck: VoucherPrecheck, _ deliver: @Sendable ([Message], VoucherVerdicts) async -> Void,
                  turn: @Sendable (_ frames: Int, _ malformed: Int, _ firstError: String?, _ replies: Int) async -> Void) async {
        await read(stream, precheck, deliver, turn: turn)
    }

    /// The read loop, specialised for the stream's concrete type (no existential on the hot path).
    private func read<Stream: PeerStream>(_ stream: Stream, _ precheck: VoucherPrecheck,
                                         _ deliver: @Sendable ([Message], VoucherVerdicts) async -> Void,
                                         turn: @Sendable (_ frames: Int, _ malformed: Int, _ firstError: String?, _ replies: Int) async -> Void) async {
        var codec = PaymentStreamCodec()
        do {
            for try await chunk in stream.inbound {
                counters.bytesIn.increment(by: Int64(chunk.readableBytes))
                codec.feed(chunk)
                var messages: [Message] = []
                var replies = ByteBufferAllocator().buffer(capacity: 0)
                var lost = false
                var malformed = 0, firstError: String?
                while true {
                    do {
                        guard let m = try codec.nextMessage() else { break }
                        messages.append(m)
                    } catch {
                        try? codec.write(.error(error.reply), into: &replies)
                        malformed += 1
                        if firstError == nil { firstError = "\(error)" }
                        if error.closesStream { lost = true; break }
                    }
                }
                counters.messagesIn.increment(by: Int64(messages.count + malformed))
                LatencyTrace.mark("chunk \(messages.map { "\($0.type)" })")
                await turn(messages.count + malformed, malformed, firstError, malformed)
                var start = 0
                while start < messages.count {
                    let end = min(messages.count, start + Self.maxMessagesPerTurn)
                    let slice = start == 0 && end == messages.count ? messages : Array(messages[start..<end])
                    await deliver(slice, precheck.check(slice, from: peer))
                    start = end
                }
                if replies.readableBytes > 0 { write(replies, messages: malformed) }
                if lost {
                    stream.reset()
                    return
                }
            }
        } catch {
            // reset by the peer or connection closed: the service learns it when this returns
        }
    }
}
