public import NIOCore

/// The TCP framing of paymesh/1: every Noise message is preceded by a cleartext 2-byte
/// big-endian length.
public enum NoiseFraming {
    public static let lengthPrefixSize = 2

    /// Appends `u16 BE length ‖ message`. Throws `messageTooLarge` above 65535 bytes and
    /// `badFrameLength(0)` for an empty message unless `allowsEmpty`.
    public static func writeFrame(_ message: UnsafeRawBufferPointer, into buffer: inout ByteBuffer,
                                  allowsEmpty: Bool = false) throws {
        guard message.count <= NoiseLimits.maxMessageLength else {
            throw NoiseError.messageTooLarge(length: message.count, maximum: NoiseLimits.maxMessageLength)
        }
        guard message.count > 0 || allowsEmpty else { throw NoiseError.badFrameLength(0) }
        buffer.writeInteger(UInt16(message.count), endianness: .big)
        buffer.writeBytes(message)
    }

    public static func writeFrame(_ message: [UInt8], into buffer: inout ByteBuffer, allowsEmpty: Bool = false) throws {
        try message.withUnsafeBytes { try writeFrame($0, into: &buffer, allowsEmpty: allowsEmpty) }
    }
}

/// Splits a TCP byte stream into Noise messages. Accepts chunks of any size (one byte at a time
/// too); a length is checked as soon as its two bytes arrive, so a bad length is reported before
/// its body. After an error every call throws the same error: the connection must be closed.
///
/// A zero length is refused unless `allowsEmptyMessages`: in paymesh/1 no handshake message is
/// empty (XX message 1 is at least 32 bytes) and no transport message is (tag + ≥ 1 byte).
public struct NoiseFrameDecoder: Sendable {
    /// Largest accepted message. At most 65535 (rev 34 §3); a connection may lower it, e.g.
    /// while handshaking.
    public var maximumMessageLength: Int {
        didSet { precondition((0...NoiseLimits.maxMessageLength).contains(maximumMessageLength)) }
    }
    public let allowsEmptyMessages: Bool
    private var buffer: ByteBuffer
    private var failure: NoiseError?

    /// Compact the buffer once this many consumed bytes sit in front of unread ones.
    private static let compactionThreshold = 64 * 1024

    public init(maximumMessageLength: Int = NoiseLimits.maxMessageLength, allowsEmptyMessages: Bool = false,
                allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        precondition((0...NoiseLimits.maxMessageLength).contains(maximumMessageLength))
        self.maximumMessageLength = maximumMessageLength
        self.allowsEmptyMessages = allowsEmptyMessages
        self.buffer = allocator.buffer(capacity: 0)
    }

    /// Bytes received and not yet returned as messages.
    public var bufferedByteCount: Int { buffer.readableBytes }

    /// Bytes currently allocated for buffering (per-connection memory, for metrics and tests).
    public var storageCapacity: Int { buffer.capacity }

    public mutating func append(_ bytes: ByteBuffer) {
        if buffer.readableBytes == 0 && buffer.readerIndex > 0 { buffer.clear() }
        var bytes = bytes
        buffer.writeBuffer(&bytes)
    }

    public mutating func append(contentsOf bytes: some Sequence<UInt8>) {
        if buffer.readableBytes == 0 && buffer.readerIndex > 0 { buffer.clear() }
        buffer.writeBytes(bytes)
    }

    /// The next whole message (without its length prefix), or nil when more bytes are needed.
    /// The returned buffer is a slice of the decoder's storage: no copy.
    public mutating func nextMessage() throws -> ByteBuffer? {
        if let failure { throw failure }
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .big, as: UInt16.self) else {
            return nil
        }
        let n = Int(length)
        guard (n > 0 || allowsEmptyMessages), n <= maximumMessageLength else {
            let error = n == 0 ? NoiseError.badFrameLength(0)
                : NoiseError.messageTooLarge(length: n, maximum: maximumMessageLength)
            failure = error
            throw error
        }
        guard buffer.readableBytes >= NoiseFraming.lengthPrefixSize + n else { return nil }
        buffer.moveReaderIndex(forwardBy: NoiseFraming.lengthPrefixSize)
        // readSlice cannot fail: the bytes were checked just above.
        let message = buffer.readSlice(length: n)!
        if buffer.readerIndex >= Self.compactionThreshold { buffer.discardReadBytes() }
        return message
    }

    /// Appends `chunk` and returns every message now complete.
    public mutating func decode(_ chunk: ByteBuffer) throws -> [ByteBuffer] {
        append(chunk)
        var out: [ByteBuffer] = []
        while let m = try nextMessage() { out.append(m) }
        return out
    }
}
