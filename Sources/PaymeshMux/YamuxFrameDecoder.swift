import NIOCore

/// Splits a byte stream into yamux frames. Drip-feed safe: bytes may arrive in any chunking; a
/// frame may span many chunks and one chunk may hold many frames. Payloads are slices of the
/// input (no copy) unless a frame had to be reassembled from several chunks.
public struct YamuxFrameDecoder: Sendable {
    private var buffer: ByteBuffer?
    public let maxDataLength: UInt32

    public init(maxDataLength: UInt32 = MuxConfiguration.defaultMaxDataFrameLength) {
        self.maxDataLength = maxDataLength
    }

    /// Bytes received but not yet returned as frames.
    public var bufferedBytes: Int { buffer?.readableBytes ?? 0 }

    public mutating func append(_ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0 else { return }
        if buffer == nil || buffer!.readableBytes == 0 {
            buffer = bytes  // adopt the chunk: no copy
        } else {
            var bytes = bytes
            buffer!.writeBuffer(&bytes)
        }
    }

    /// The next complete frame, nil when more bytes are needed. After a throw the stream is
    /// unusable (the session closes).
    public mutating func next() throws(MuxError) -> YamuxFrame? {
        guard var buf = buffer, buf.readableBytes >= YamuxFrame.headerLength else { return nil }
        let start = buf.readerIndex
        let (high, length) = buf.getMultipleIntegers(at: start, as: (UInt64, UInt32).self)!
        let version = UInt8(truncatingIfNeeded: high >> 56)
        let rawType = UInt8(truncatingIfNeeded: high >> 48)
        let flags = YamuxFrame.Flags(rawValue: UInt16(truncatingIfNeeded: high >> 32))
        let streamID = StreamID(UInt32(truncatingIfNeeded: high))
        guard version == YamuxFrame.version else { throw .badVersion(version) }
        guard let type = YamuxFrame.FrameType(rawValue: rawType) else { throw .unknownType(rawType) }
        try YamuxFrame.validate(type: type, flags: flags, streamID: streamID, length: length,
                                maxDataLength: maxDataLength)
        let payloadLength = type == .data ? Int(length) : 0
        guard buf.readableBytes - YamuxFrame.headerLength >= payloadLength else { return nil }
        // Release our reference before slicing so that a fully consumed buffer is dropped.
        buffer = nil
        buf.moveReaderIndex(forwardBy: YamuxFrame.headerLength)
        let payload = payloadLength == 0 ? ByteBuffer() : buf.readSlice(length: payloadLength)!
        if buf.readableBytes > 0 { buffer = buf }
        return YamuxFrame(type: type, flags: flags, streamID: streamID, length: length, payload: payload)
    }
}
