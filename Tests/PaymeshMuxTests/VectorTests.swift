import NIOCore
import PaymeshMux
import PaymeshTestSupport
import Testing

/// Specs/vectors/mux-frames.json: every frame shape Paymesh sends, and rejected headers.
struct MuxFrameVectors: Decodable {
    struct Valid: Decodable {
        var description: String
        var hex: String
        var type: String
        var flags: [String]
        var streamID: UInt32
        var length: UInt32
        var payloadHex: String
    }
    struct Invalid: Decodable {
        var description: String
        var hex: String
        var error: String
    }
    var valid: [Valid]
    var invalid: [Invalid]

    static func load() throws -> MuxFrameVectors {
        try TestVectors.load(MuxFrameVectors.self, spec: "mux-frames.json")
    }
}

func bytes(hex: String) -> [UInt8] {
    var out: [UInt8] = []
    var it = hex.utf8.makeIterator()
    while let hi = it.next(), let lo = it.next() {
        out.append(UInt8(String(decoding: [hi, lo], as: UTF8.self), radix: 16)!)
    }
    return out
}

@Suite struct VectorTests {
    static let types: [String: YamuxFrame.FrameType] = [
        "data": .data, "windowUpdate": .windowUpdate, "ping": .ping, "goAway": .goAway,
    ]
    static let flags: [String: YamuxFrame.Flags] = ["SYN": .syn, "ACK": .ack, "FIN": .fin, "RST": .rst]

    @Test func fileHasVectors() throws {
        let v = try MuxFrameVectors.load()
        #expect(v.valid.count >= 20)
        #expect(v.invalid.count >= 13)
    }

    @Test func validVectorsEncodeAndDecode() throws {
        for v in try MuxFrameVectors.load().valid {
            let type = try #require(Self.types[v.type], "\(v.description)")
            var flags: YamuxFrame.Flags = []
            for name in v.flags { flags.insert(try #require(Self.flags[name])) }
            let frame = YamuxFrame(type: type, flags: flags, streamID: StreamID(v.streamID), length: v.length,
                                   payload: ByteBuffer(bytes: bytes(hex: v.payloadHex)))
            var out = ByteBuffer()
            frame.encode(into: &out)
            #expect(Array(out.readableBytesView) == bytes(hex: v.hex), "\(v.description)")

            // Decode whole, then one byte at a time.
            var whole = YamuxFrameDecoder()
            whole.append(ByteBuffer(bytes: bytes(hex: v.hex)))
            #expect(try whole.next() == frame, "\(v.description)")
            var drip = YamuxFrameDecoder()
            var decoded: YamuxFrame?
            for b in bytes(hex: v.hex) {
                #expect(decoded == nil)
                drip.append(ByteBuffer(bytes: [b]))
                decoded = try drip.next()
            }
            #expect(decoded == frame, "\(v.description)")
        }
    }

    @Test func invalidVectorsAreRejected() throws {
        for v in try MuxFrameVectors.load().invalid {
            var decoder = YamuxFrameDecoder()
            decoder.append(ByteBuffer(bytes: bytes(hex: v.hex)))
            do {
                let f = try decoder.next()
                Issue.record("\(v.description): decoded \(String(describing: f)), expected \(v.error)")
            } catch {
                #expect(error.name == v.error, "\(v.description)")
            }
        }
    }
}
