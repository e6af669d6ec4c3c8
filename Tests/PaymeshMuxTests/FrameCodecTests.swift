import NIOCore
import PaymeshMux
import Testing

@Suite struct FrameCodecTests {
    static let frames: [YamuxFrame] = [
        .data(1, flags: .syn, payload: ByteBuffer(string: "hello")),
        .data(2, flags: [.ack, .fin], payload: ByteBuffer()),
        .windowUpdate(3, flags: .syn, delta: 0x000C_0000),
        .windowUpdate(4, flags: .rst, delta: 0),
        .ping(value: 0xDEAD_BEEF, response: false),
        .ping(value: 0xDEAD_BEEF, response: true),
        .goAway(.protocolError),
        .data(0xFFFF_FFFF, payload: pattern(1000, seed: 9)),
    ]

    @Test func headerLayoutIsBigEndian() {
        var b = ByteBuffer()
        YamuxFrame.windowUpdate(StreamID(0x0102_0304), flags: [.ack, .fin], delta: 0x0506_0708).encode(into: &b)
        #expect(Array(b.readableBytesView) == [0, 1, 0, 6, 1, 2, 3, 4, 5, 6, 7, 8])
    }

    @Test func decodesWholeBuffer() throws {
        var decoder = YamuxFrameDecoder()
        decoder.append(encoded(Self.frames[0], Self.frames[1], Self.frames[2], Self.frames[3],
                               Self.frames[4], Self.frames[5], Self.frames[6], Self.frames[7]))
        var out: [YamuxFrame] = []
        while let f = try decoder.next() { out.append(f) }
        #expect(out == Self.frames)
        #expect(decoder.bufferedBytes == 0)
    }

    @Test func decodesOneByteAtATime() throws {
        var all = ByteBuffer()
        for f in Self.frames { f.encode(into: &all) }
        var decoder = YamuxFrameDecoder()
        var out: [YamuxFrame] = []
        while let byte = all.readSlice(length: 1) {
            decoder.append(byte)
            while let f = try decoder.next() { out.append(f) }
        }
        #expect(out == Self.frames)
    }

    @Test(arguments: [2, 5, 11, 13, 700])
    func decodesArbitraryChunks(size: Int) throws {
        var all = ByteBuffer()
        for f in Self.frames { f.encode(into: &all) }
        var decoder = YamuxFrameDecoder()
        var out: [YamuxFrame] = []
        while all.readableBytes > 0 {
            decoder.append(all.readSlice(length: min(size, all.readableBytes))!)
            while let f = try decoder.next() { out.append(f) }
        }
        #expect(out == Self.frames)
    }

    @Test func incompleteFrameWaits() throws {
        var decoder = YamuxFrameDecoder()
        var b = encoded(.data(1, payload: ByteBuffer(string: "abc")))
        decoder.append(b.readSlice(length: 14)!)
        #expect(try decoder.next() == nil)
        #expect(decoder.bufferedBytes == 14)
        decoder.append(b)
        #expect(try decoder.next() == .data(1, payload: ByteBuffer(string: "abc")))
    }

    static func header(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    static let invalid: [(String, [UInt8])] = [
        ("badVersion", [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
        ("unknownType", [0, 4, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]),
        ("invalidFlags", [0, 0, 0, 0x10, 0, 0, 0, 1, 0, 0, 0, 0]),
        ("invalidFlags", [0, 1, 0, 3, 0, 0, 0, 1, 0, 0, 0, 0]),
        ("invalidFlags", [0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        ("invalidFlags", [0, 3, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0]),
        ("sessionFrameOnStream", [0, 2, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1]),
        ("sessionFrameOnStream", [0, 3, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0]),
        ("streamFrameOnSession", [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        ("streamFrameOnSession", [0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]),
        ("frameTooLarge", [0, 0, 0, 0, 0, 0, 0, 1, 0x01, 0, 0, 1]),
    ]

    @Test(arguments: 0..<invalid.count)
    func rejectsInvalidHeaders(index: Int) {
        let (name, bytes) = Self.invalid[index]
        var decoder = YamuxFrameDecoder()
        decoder.append(Self.header(bytes))
        do {
            _ = try decoder.next()
            Issue.record("expected \(name)")
        } catch {
            #expect(error.name == name)
        }
    }

    @Test func maxDataLengthIsConfigurable() throws {
        var decoder = YamuxFrameDecoder(maxDataLength: 4)
        decoder.append(encoded(.data(1, payload: ByteBuffer(string: "abcd"))))
        #expect(try decoder.next()?.payload == ByteBuffer(string: "abcd"))
        decoder.append(encoded(.data(1, payload: ByteBuffer(string: "abcde"))))
        #expect(throws: MuxError.frameTooLarge()) { try decoder.next() }
    }
}
