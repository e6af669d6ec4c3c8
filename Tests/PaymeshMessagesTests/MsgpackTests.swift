import Foundation
import PaymeshCrypto
import PaymeshMsgpack
import Testing

@Suite("PaymeshMsgpack")
struct MsgpackTests {
    func kind(_ bytes: [UInt8], limits: MsgpackLimits = .default) -> MsgpackError.Kind? {
        do throws(MsgpackError) {
            _ = try MsgpackDecoder.decode(bytes, limits: limits)
            return nil
        } catch {
            return error.kind
        }
    }

    @Test func roundTripsEveryKind() throws {
        let value = MsgpackValue.map([
            MsgpackPair(.string("nil"), .nil),
            MsgpackPair(.string("t"), .bool(true)),
            MsgpackPair(.string("f"), .bool(false)),
            MsgpackPair(.string("neg"), .int(-129)),
            MsgpackPair(.string("min"), .int(Int64.min)),
            MsgpackPair(.string("u"), .uint(UInt64.max)),
            MsgpackPair(.string("f64"), .float64(1.5)),
            MsgpackPair(.string("s"), .string("héllo ✓")),
            MsgpackPair(.string(""), .binary([])),
            MsgpackPair(.uint(7), .array([.uint(0), .array([]), .map([])])),
            MsgpackPair(.string("ext"), .extension(type: 5, data: [1, 2, 3])),
        ])
        let bytes = try MsgpackEncoder.encode(value)
        #expect(try MsgpackDecoder.decode(bytes) == value)
    }

    @Test func mapOrderIsKept() throws {
        let value = MsgpackValue.map([MsgpackPair(.string("z"), .uint(1)), MsgpackPair(.string("a"), .uint(2))])
        #expect(try MsgpackEncoder.encode(value) == [0x82, 0xa1, 0x7a, 0x01, 0xa1, 0x61, 0x02])
        #expect(try MsgpackDecoder.decode(MsgpackEncoder.encode(value)) == value)
    }

    @Test(arguments: [
        (UInt64(0), "00"), (127, "7f"), (128, "cc80"), (255, "ccff"), (256, "cd0100"), (65_535, "cdffff"),
        (65_536, "ce00010000"), (4_294_967_296, "cf0000000100000000"),
    ])
    func smallestUnsignedEncoding(value: UInt64, hex: String) throws {
        #expect(try MsgpackEncoder.encode(.uint(value)).hexString == hex)
        // A non-negative .int takes the same bytes.
        #expect(try MsgpackEncoder.encode(.int(Int64(value))).hexString == hex)
        #expect(try MsgpackDecoder.decode([UInt8](hex: hex)!) == .uint(value))
    }

    @Test(arguments: [(Int64(-1), "ff"), (-32, "e0"), (-33, "d0df"), (-129, "d1ff7f"), (-32_769, "d2ffff7fff")])
    func smallestSignedEncoding(value: Int64, hex: String) throws {
        #expect(try MsgpackEncoder.encode(.int(value)).hexString == hex)
        #expect(try MsgpackDecoder.decode([UInt8](hex: hex)!) == .int(value))
    }

    @Test(arguments: [(0, "a0"), (31, "bf"), (32, "d920"), (255, "d9ff"), (256, "da0100")])
    func stringHeaders(length: Int, header: String) throws {
        let bytes = try MsgpackEncoder.encode(.string(String(repeating: "x", count: length)))
        #expect(bytes.prefix(header.count / 2).hexString == header)
        #expect(bytes.count == header.count / 2 + length)
    }

    @Test(arguments: [(0, "c400"), (255, "c4ff"), (256, "c50100"), (65_536, "c600010000")])
    func binaryHeaders(length: Int, header: String) throws {
        let bytes = try MsgpackEncoder.encode(.binary([UInt8](repeating: 9, count: length)))
        #expect(bytes.prefix(header.count / 2).hexString == header)
        #expect(try MsgpackDecoder.decode(bytes) == .binary([UInt8](repeating: 9, count: length)))
    }

    @Test func reusedEncoderAndDecoderGiveIndependentResults() throws {
        let encoder = MsgpackEncoder()
        let decoder = MsgpackDecoder()
        for i in 0..<100 {
            let v = MsgpackValue.array([.uint(UInt64(i)), .string(String(repeating: "a", count: i))])
            #expect(try decoder.decode(encoder.encode(v)) == v)
        }
    }

    @Test func depthBombIsRejected() {
        // 17 nested arrays around nil: one over the default depth limit of 16.
        #expect(kind([UInt8](repeating: 0x91, count: 17) + [0xc0]) == .depthLimitExceeded)
        #expect(kind([UInt8](repeating: 0x91, count: 16) + [0xc0]) == nil)
        #expect(kind([UInt8](repeating: 0x81, count: 1) + [UInt8](repeating: 0x91, count: 100_000)) == .depthLimitExceeded)
    }

    @Test func hugeDeclaredLengthsInTinyBuffers() {
        #expect(kind([0xdd, 0xff, 0xff, 0xff, 0xff]) == .truncated)           // array32
        #expect(kind([0xdf, 0xff, 0xff, 0xff, 0xff, 0xc0]) == .truncated)     // map32
        #expect(kind([0xc6, 0xff, 0xff, 0xff, 0xff, 0x00]) == .binaryTooLong) // bin32 over limit
        #expect(kind([0xdb, 0x7f, 0xff, 0xff, 0xff]) == .stringTooLong)       // str32 over limit
        #expect(kind([0xc6, 0x00, 0x00, 0x10, 0x00, 0x00]) == .truncated)     // bin32 4 KiB, 1 byte given
        #expect(kind([0xc9, 0x00, 0x00, 0x00, 0x10, 0x01]) == .truncated)     // ext32
        #expect(kind([0xdc, 0x00, 0x03, 0xc0, 0xc0]) == .truncated)           // array16 of 3 with 2 items
    }

    @Test func elementAndLengthLimits() {
        let small = MsgpackLimits(maxDepth: 4, maxElements: 10, maxStringLength: 4, maxBinaryLength: 4)
        #expect(kind([0x9a] + [UInt8](repeating: 0xc0, count: 10), limits: small) == .elementLimitExceeded)
        #expect(kind([0x99] + [UInt8](repeating: 0xc0, count: 9), limits: small) == nil)
        #expect(kind([0xa5] + Array("hello".utf8), limits: small) == .stringTooLong)
        #expect(kind([0xa4] + Array("hell".utf8), limits: small) == nil)
        #expect(kind([0xc4, 0x05, 1, 2, 3, 4, 5], limits: small) == .binaryTooLong)
    }

    @Test func exactlyOneObject() {
        #expect(kind([0xc0, 0xc0]) == .trailingBytes)
        #expect(kind([0x81, 0xa1, 0x61, 0x01, 0x00]) == .trailingBytes)
        #expect(kind([]) == .truncated)
        #expect(kind([0x82, 0xa1, 0x61, 0x01]) == .truncated)
        #expect(kind([0xc1]) == .invalidFormat)
    }

    @Test func invalidUTF8IsRejected() {
        #expect(kind([0xa2, 0xc3, 0x28]) == .invalidUTF8)
        #expect(kind([0xa3, 0xed, 0xa0, 0x80]) == .invalidUTF8) // UTF-16 surrogate
        #expect(kind([0xa1, 0xff]) == .invalidUTF8)
        #expect(kind([0xa2, 0xc3, 0xa9]) == nil)                // "é"
    }

    @Test func floatsAndExtensionsDecodeForSkipping() throws {
        #expect(try MsgpackDecoder.decode([0xca, 0x3f, 0xc0, 0x00, 0x00]) == .float64(1.5))
        #expect(try MsgpackDecoder.decode([0xd4, 0x01, 0x07]) == .extension(type: 1, data: [7]))
    }

    /// Prints the time per encode and decode of a small (6-field) map; the bound is loose because
    /// tests run unoptimised on a shared machine.
    @Test func smallMapSpeed() throws {
        let value = MsgpackValue.map([
            MsgpackPair(.string("v"), .uint(1)),
            MsgpackPair(.string("type"), .uint(2)),
            MsgpackPair(.string("data"), .map([
                MsgpackPair(.string("channel_id"), .binary([UInt8](repeating: 1, count: 32))),
                MsgpackPair(.string("nonce"), .uint(42)),
                MsgpackPair(.string("amount"), .string("1000000")),
                MsgpackPair(.string("timestamp"), .uint(1_767_225_600_000)),
                MsgpackPair(.string("signature"), .binary([UInt8](repeating: 2, count: 65))),
            ])),
        ])
        let encoder = MsgpackEncoder(), decoder = MsgpackDecoder()
        let bytes = try encoder.encode(value)
        let n = 20_000
        let clock = ContinuousClock()
        var sink = 0
        let enc = try clock.measure { for _ in 0..<n { sink &+= try encoder.encode(value).count } }
        let dec = try clock.measure { for _ in 0..<n { if case .map(let m) = try decoder.decode(bytes) { sink &+= m.count } } }
        let encUs = enc / n, decUs = dec / n
        print("msgpack small map (\(bytes.count) B): encode \(encUs), decode \(decUs) per op [sink \(sink)]")
        #expect(enc + dec < .seconds(5))
    }
}
