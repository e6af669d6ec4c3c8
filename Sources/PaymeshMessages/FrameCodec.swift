import NIOCore
import PaymeshMsgpack

/// Payment stream framing (Specs/messages.md §2): u32 big-endian length ‖ msgpack envelope.
public enum PaymentFrame {
    public static let headerLength = 4
    /// 1 MiB, as AgentPay; a length of zero or above this is a protocol violation.
    public static let maxPayloadLength = 1_048_576

    /// Splits one frame off the front of `buffer` if it is complete (ByteToMessageDecoder style):
    /// returns the payload and consumes the frame, or returns nil and consumes nothing.
    /// Throws (closesStream = true) as soon as a bad length prefix is visible.
    public static func split(_ buffer: inout ByteBuffer) throws(MessageError) -> ByteBuffer? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
        guard length >= 1, length <= UInt32(maxPayloadLength) else { throw .badFrameLength(length) }
        guard buffer.readableBytes >= headerLength + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: headerLength)
        return buffer.readSlice(length: Int(length))
    }

    /// Appends one frame for `message` to `buffer`, encoding with `encoder` (reused, no temporary array).
    public static func write(_ message: Message, into buffer: inout ByteBuffer, using encoder: MsgpackEncoder) throws(MessageError) {
        let envelope = Envelope.encode(message)
        let written: Bool
        do throws(MsgpackError) {
            written = try encoder.withEncoded(envelope) { bytes -> Bool in
                guard bytes.count >= 1, bytes.count <= maxPayloadLength else { return false }
                buffer.writeInteger(UInt32(bytes.count))
                buffer.writeBytes(bytes)
                return true
            }
        } catch {
            throw .internalError("encoding failed: \(error.kind)")
        }
        if !written { throw .internalError("encoded message exceeds the frame limit") }
    }

    /// The full frame for `message` as bytes (convenience for tests and tools).
    public static func encode(_ message: Message) throws(MessageError) -> [UInt8] {
        var buffer = ByteBufferAllocator().buffer(capacity: 256)
        try write(message, into: &buffer, using: MsgpackEncoder())
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}

/// Reassembles frames from a byte stream delivered in arbitrary chunks (one byte at a time too).
/// After a framing error it stays failed: the stream must be closed.
public struct FrameDecoder {
    private var buffer: ByteBuffer
    private var failure: MessageError?

    public init(allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        buffer = allocator.buffer(capacity: 0)
    }

    /// Bytes received but not yet returned as a frame.
    public var bufferedBytes: Int { buffer.readableBytes }

    public mutating func feed(_ chunk: ByteBuffer) {
        var chunk = chunk
        buffer.writeBuffer(&chunk)
    }

    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        buffer.writeBytes(bytes)
    }

    /// The next complete frame payload, nil if more bytes are needed.
    public mutating func nextFrame() throws(MessageError) -> ByteBuffer? {
        if let failure { throw failure }
        do throws(MessageError) {
            guard let frame = try PaymentFrame.split(&buffer) else { return nil }
            if buffer.readableBytes == 0 {
                buffer.clear()
            } else if buffer.readerIndex > 65_536 {
                buffer.discardReadBytes()
            }
            return frame
        } catch {
            failure = error
            throw error
        }
    }
}

/// One payment stream's codec: frames in, typed messages out, and back.
/// Holds a reusable msgpack decoder and encoder; keep one per stream on its event loop.
public struct PaymentStreamCodec {
    private var frames: FrameDecoder
    private let decoder: MsgpackDecoder
    private let encoder: MsgpackEncoder

    public init(limits: MsgpackLimits = .default, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        frames = FrameDecoder(allocator: allocator)
        decoder = MsgpackDecoder(limits: limits)
        encoder = MsgpackEncoder()
    }

    public mutating func feed(_ chunk: ByteBuffer) { frames.feed(chunk) }
    public mutating func feed(_ bytes: some Sequence<UInt8>) { frames.feed(bytes) }

    /// The next message, nil when more bytes are needed. On error answer with `error.reply`;
    /// close the stream if `error.closesStream`, otherwise the next call continues with the next frame.
    public mutating func nextMessage() throws(MessageError) -> Message? {
        guard let frame = try frames.nextFrame() else { return nil }
        let decoder = self.decoder
        let result: Result<Message, MessageError> = frame.withUnsafeReadableBytes { raw in
            do throws(MessageError) { return .success(try Envelope.decode(raw, using: decoder)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    public func write(_ message: Message, into buffer: inout ByteBuffer) throws(MessageError) {
        try PaymentFrame.write(message, into: &buffer, using: encoder)
    }
}
