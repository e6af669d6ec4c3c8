import NIOCore
import PaymeshMessages
import PaymeshMsgpack
import PaymeshTestSupport
import Testing

@Suite("Frame codec")
struct FrameCodecTests {
    func allFrames() throws -> [UInt8] {
        try Samples.all.flatMap { try PaymentFrame.encode($0) }
    }

    func drain(_ codec: inout PaymentStreamCodec) throws -> [Message] {
        var out: [Message] = []
        while let m = try codec.nextMessage() { out.append(m) }
        return out
    }

    @Test func wholeStreamInOneChunk() throws {
        var codec = PaymentStreamCodec()
        codec.feed(try allFrames())
        #expect(try drain(&codec) == Samples.all)
    }

    @Test func dripFedOneByteAtATime() throws {
        var codec = PaymentStreamCodec()
        var out: [Message] = []
        for byte in try allFrames() {
            codec.feed(ByteBuffer(bytes: [byte]))
            out += try drain(&codec)
        }
        #expect(out == Samples.all)
    }

    @Test func randomChunkSizes() throws {
        let stream = try allFrames()
        var rng = SplitMix64(seed: 7)
        for _ in 0..<20 {
            var codec = PaymentStreamCodec()
            var out: [Message] = []
            var i = 0
            while i < stream.count {
                let n = min(Int(rng.next() % 700) + 1, stream.count - i)
                codec.feed(stream[i..<(i + n)])
                i += n
                out += try drain(&codec)
            }
            #expect(out == Samples.all)
        }
    }

    @Test func writesIntoAByteBuffer() throws {
        let codec = PaymentStreamCodec()
        var buffer = ByteBuffer()
        for m in Samples.all { try codec.write(m, into: &buffer) }
        #expect(Array(buffer.readableBytesView) == (try allFrames()))
    }

    @Test func splitConsumesNothingUntilComplete() throws {
        let frame = try PaymentFrame.encode(Samples.all[1])
        var buffer = ByteBuffer(bytes: frame.dropLast())
        #expect(try PaymentFrame.split(&buffer) == nil)
        #expect(buffer.readableBytes == frame.count - 1)
        buffer.writeInteger(frame.last!)
        let payload = try #require(try PaymentFrame.split(&buffer))
        #expect(payload.readableBytes == frame.count - 4)
        #expect(buffer.readableBytes == 0)
    }

    @Test(arguments: [UInt32(0), 1_048_577, UInt32.max])
    func badLengthIsFatalAndSticky(length: UInt32) throws {
        var decoder = FrameDecoder()
        var header = ByteBuffer()
        header.writeInteger(length)
        decoder.feed(header)
        #expect(throws: MessageError.self) { try decoder.nextFrame() }
        decoder.feed(try PaymentFrame.encode(Samples.all[1]))
        do throws(MessageError) {
            _ = try decoder.nextFrame()
            Issue.record("decoder recovered after a framing error")
        } catch {
            #expect(error.closesStream)
            #expect(error.code == .malformedMessage)
        }
    }

    @Test func maximumLengthFrameIsAccepted() throws {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(PaymentFrame.maxPayloadLength))
        buffer.writeRepeatingByte(0, count: PaymentFrame.maxPayloadLength)
        let payload = try #require(try PaymentFrame.split(&buffer))
        #expect(payload.readableBytes == PaymentFrame.maxPayloadLength)
    }

    @Test func badMessageIsNotFatal() throws {
        var codec = PaymentStreamCodec()
        var bad = ByteBuffer()
        bad.writeInteger(UInt32(1))
        bad.writeInteger(UInt8(0xc0)) // msgpack nil: not a map
        codec.feed(bad)
        codec.feed(try PaymentFrame.encode(Samples.all[0]))
        do throws(MessageError) {
            _ = try codec.nextMessage()
            Issue.record("accepted nil as an envelope")
        } catch {
            #expect(error.code == .malformedMessage)
            #expect(!error.closesStream)
        }
        #expect(try codec.nextMessage() == Samples.all[0])
    }
}

