import NIOCore

/// Names the protocol a stream carries (Specs/streams.md): the opener's first bytes on the
/// stream are one length byte N (1...255) and N bytes of printable ASCII protocol id.
public struct StreamProtocolID: Hashable, Sendable, CustomStringConvertible {
    /// Longest id that fits the one-byte length (streams.md).
    public static let maxLength = 255

    public let value: String

    /// Accepts 1...255 bytes of printable ASCII (0x21...0x7E).
    public init(_ value: String) throws(MuxError) {
        let bytes = Array(value.utf8)
        try Self.validate(bytes)
        self.value = value
    }

    public var description: String { value }

    static func validate(_ bytes: [UInt8]) throws(MuxError) {
        guard !bytes.isEmpty else { throw .invalidProtocolID("empty") }
        guard bytes.count <= maxLength else { throw .invalidProtocolID("\(bytes.count) bytes > 255") }
        guard bytes.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E }) else {
            throw .invalidProtocolID("not printable ASCII")
        }
    }
}

/// Encoder and drip-feed-safe decoder of the stream protocol header.
public struct StreamProtocolHeader: Sendable {
    private var buffer = ByteBuffer()

    public init() {}

    /// Appends the header for `id` (length byte, then the id's bytes).
    public static func encode(_ id: StreamProtocolID, into out: inout ByteBuffer) {
        out.writeInteger(UInt8(id.value.utf8.count))
        out.writeString(id.value)
    }

    public static func encode(_ id: StreamProtocolID) -> ByteBuffer {
        var out = ByteBuffer()
        encode(id, into: &out)
        return out
    }

    /// Feeds stream bytes. Returns nil until the header is complete, then the protocol id and
    /// every byte received after the header (the protocol's own first bytes). Throws for a zero
    /// length or non-ASCII id; the acceptor then resets the stream. Call no more after a result.
    public mutating func decode(_ bytes: ByteBuffer) throws(MuxError) -> (protocol: StreamProtocolID, remainder: ByteBuffer)? {
        var bytes = bytes
        buffer.writeBuffer(&bytes)
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self) else { return nil }
        guard length > 0 else { throw .invalidProtocolID("zero length") }
        guard buffer.readableBytes > Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 1)
        let raw = buffer.readBytes(length: Int(length))!
        try StreamProtocolID.validate(raw)
        let id = try StreamProtocolID(String(decoding: raw, as: UTF8.self))
        let remainder = buffer
        buffer = ByteBuffer()
        return (id, remainder)
    }
}
