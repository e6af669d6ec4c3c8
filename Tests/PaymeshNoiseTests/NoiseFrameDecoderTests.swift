import NIOCore
import Testing
import PaymeshNoise

@Suite("NoiseFrameDecoder")
struct NoiseFrameDecoderTests {
    static func wire(_ messages: [[UInt8]]) throws -> [UInt8] {
        var b = ByteBuffer()
        for m in messages { try NoiseFraming.writeFrame(m, into: &b) }
        return b.allBytes
    }

    static let messages: [[UInt8]] = [[1], Array(repeating: 2, count: 300), Array(repeating: 3, count: 65_535), [4, 4]]

    @Test("whole stream in one chunk")
    func whole() throws {
        var d = NoiseFrameDecoder()
        let out = try d.decode(ByteBuffer(bytes: Self.wire(Self.messages)))
        #expect(out.map(\.allBytes) == Self.messages)
        #expect(d.bufferedByteCount == 0)
        #expect(try d.nextMessage() == nil)
    }

    @Test("drip-fed one byte at a time", arguments: [1, 2, 3, 7, 1000])
    func drip(chunkSize: Int) throws {
        let wire = try Self.wire(Self.messages)
        var d = NoiseFrameDecoder()
        var out: [[UInt8]] = []
        var i = 0
        while i < wire.count {
            let end = min(i + chunkSize, wire.count)
            d.append(contentsOf: wire[i..<end])
            while let m = try d.nextMessage() { out.append(m.allBytes) }
            i = end
        }
        #expect(out == Self.messages)
    }

    @Test("the 2-byte prefix is big-endian")
    func bigEndian() throws {
        var b = ByteBuffer()
        try NoiseFraming.writeFrame([UInt8](repeating: 0, count: 0x0102), into: &b)
        #expect(Array(b.allBytes.prefix(2)) == [0x01, 0x02])
    }

    @Test("a zero length is rejected, and the decoder stays failed")
    func zero() throws {
        var d = NoiseFrameDecoder()
        d.append(contentsOf: [0, 0, 0, 1, 9])
        #expect(throws: NoiseError.badFrameLength(0)) { try d.nextMessage() }
        #expect(throws: NoiseError.badFrameLength(0)) { try d.nextMessage() }
        var b = ByteBuffer()
        #expect(throws: NoiseError.badFrameLength(0)) { try NoiseFraming.writeFrame([], into: &b) }
        var lenient = NoiseFrameDecoder(allowsEmptyMessages: true)
        lenient.append(contentsOf: [0, 0, 0, 1, 9])
        #expect(try lenient.nextMessage()?.readableBytes == 0)
        #expect(try lenient.nextMessage()?.allBytes == [9])
    }

    @Test("a length above the maximum is rejected as soon as the prefix arrives")
    func oversize() throws {
        var d = NoiseFrameDecoder(maximumMessageLength: 1_024)
        d.append(contentsOf: [0x04])
        #expect(try d.nextMessage() == nil)
        d.append(contentsOf: [0x01]) // 1025, no body yet
        #expect(throws: NoiseError.messageTooLarge(length: 1_025, maximum: 1_024)) { try d.nextMessage() }
        // Lowering the limit mid-stream (e.g. during the handshake) applies to the next prefix.
        var e = NoiseFrameDecoder()
        e.append(contentsOf: [0x00, 0x03, 1, 2, 3, 0xff, 0xff])
        #expect(try e.nextMessage()?.allBytes == [1, 2, 3])
        e.maximumMessageLength = 2_000
        #expect(throws: NoiseError.messageTooLarge(length: 65_535, maximum: 2_000)) { try e.nextMessage() }
    }

    @Test("writeFrame refuses messages above 65535 bytes")
    func writeOversize() {
        var b = ByteBuffer()
        #expect(throws: NoiseError.messageTooLarge(length: 65_536, maximum: 65_535)) {
            try NoiseFraming.writeFrame([UInt8](repeating: 0, count: 65_536), into: &b)
        }
        #expect(b.readableBytes == 0)
    }

    @Test("a long stream does not grow the buffer without bound")
    func compaction() throws {
        var d = NoiseFrameDecoder()
        let frame = try Self.wire([[UInt8](repeating: 5, count: 1_000)])
        for _ in 0..<500 {
            d.append(contentsOf: frame + frame.prefix(1)) // always leave a partial prefix buffered
            _ = try d.nextMessage()
            d.append(contentsOf: frame.dropFirst())
            #expect(try d.nextMessage()?.readableBytes == 1_000)
        }
        #expect(d.bufferedByteCount == 0)
        #expect(d.storageCapacity < 256 * 1024, "500 KB went through; storage must have been compacted")
    }
}
