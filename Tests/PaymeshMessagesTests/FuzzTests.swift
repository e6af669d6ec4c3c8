import PaymeshMessages
import PaymeshMsgpack
import PaymeshTestSupport
import Testing

/// Property-style: no byte string crashes the decoders; every failure is a typed error.
@Suite("Decoder robustness")
struct FuzzTests {
    @Test func randomBytesNeverCrashTheMsgpackDecoder() {
        var rng = SplitMix64(seed: 1)
        let decoder = MsgpackDecoder()
        var decoded = 0
        for _ in 0..<20_000 {
            let n = Int(rng.next() % 64)
            let bytes = (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            if (try? decoder.decode(bytes)) != nil { decoded += 1 }
        }
        #expect(decoded > 0) // some random strings are valid msgpack (e.g. one fixint)
    }

    @Test func randomFramesNeverCrashTheStreamCodec() {
        var rng = SplitMix64(seed: 2)
        for _ in 0..<5_000 {
            let n = Int(rng.next() % 48)
            var bytes: [UInt8] = [0, 0, 0, UInt8(n)]
            bytes += (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            var codec = PaymentStreamCodec()
            codec.feed(bytes)
            do throws(MessageError) {
                _ = try codec.nextMessage()
            } catch {
                #expect(PaymeshErrorCode.wireRange.contains(UInt64(error.code.rawValue)))
            }
        }
    }

    @Test func mutatedValidFramesNeverCrash() throws {
        var rng = SplitMix64(seed: 3)
        let frames = try Samples.all.map { try PaymentFrame.encode($0) }
        var rejected = 0
        for i in 0..<20_000 {
            var bytes = frames[i % frames.count]
            let flips = Int(rng.next() % 4) + 1
            for _ in 0..<flips {
                // Keep the length prefix so the mutation reaches the envelope decoder.
                let at = 4 + Int(rng.next() % UInt64(bytes.count - 4))
                bytes[at] = UInt8(truncatingIfNeeded: rng.next())
            }
            if case .failure = decodeFrame(bytes) { rejected += 1 }
        }
        #expect(rejected > 0)
    }
}
