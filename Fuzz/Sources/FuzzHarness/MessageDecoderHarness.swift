// Symlinked into Tests/PaymeshMessagesTests/FuzzHarness/.
import NIOCore
import PaymeshMessages
import PaymeshMsgpack

/// FuzzMessageDecoder: envelope and message decoding (`Envelope`, `Message`) and the payment
/// stream codec (`PaymentStreamCodec`) on arbitrary bytes.
///
/// Mode (low bit of the `FuzzInput` header): 0 — the payload is one envelope: decoded with
/// `Envelope.decode`, and also wrapped in a frame and decoded by a `PaymentStreamCodec` in the
/// input's chunks, which must agree; 1 — the payload is a stream of frames for the codec.
///
/// Invariants: a decoded message re-encodes to a frame of 1 byte…1 MiB that decodes to an equal
/// message and re-encodes to the same bytes; an error has a code in 1500…1505, and only a bad
/// length prefix closes the stream; the ERROR reply to any error is itself a valid message;
/// after a non-closing error the codec carries on with the next frame.
public enum MessageDecoderHarness {
    public struct Outcome: Equatable {
        public var messages: [Message] = []
        public var errors: [MessageError] = []
    }

    public static let errorCodes: ClosedRange<UInt16> = 1_500...1_505

    public static func run(_ data: [UInt8]) throws(FuzzViolation) -> Outcome {
        let input = FuzzInput(data)
        if input.mode & 1 == 0 {
            return try envelope(input)
        } else {
            return try stream(input.chunks, expectedFrames: nil)
        }
    }

    private static func envelope(_ input: FuzzInput) throws(FuzzViolation) -> Outcome {
        var outcome = Outcome()
        switch Result(catching: { () throws(MessageError) in try Envelope.decode(input.payload) }) {
        case .success(let message):
            try checkRoundTrip(message)
            outcome.messages.append(message)
        case .failure(let error):
            try checkError(error, insideFrame: true)
            outcome.errors.append(error)
        }
        // The same envelope inside a frame, through the stream codec in the input's chunks.
        guard (1...PaymentFrame.maxPayloadLength).contains(input.payload.count) else { return outcome }
        let length = UInt32(input.payload.count)
        let frame = [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: length >> $0) } + input.payload
        let streamed = try stream(input.chunks(of: frame), expectedFrames: 1)
        try fuzzRequire(streamed == outcome, "the stream codec disagrees with Envelope.decode")
        return outcome
    }

    private static func stream(_ chunks: [ArraySlice<UInt8>], expectedFrames: Int?) throws(FuzzViolation) -> Outcome {
        var codec = PaymentStreamCodec()
        var outcome = Outcome()
        chunks: for chunk in chunks {
            codec.feed(chunk)
            while true {
                switch Result(catching: { () throws(MessageError) in try codec.nextMessage() }) {
                case .success(nil):
                    continue chunks
                case .success(let message?):
                    try checkRoundTrip(message)
                    var written = ByteBufferAllocator().buffer(capacity: 0)
                    do throws(MessageError) { try codec.write(message, into: &written) } catch {
                        throw FuzzViolation("codec.write failed for a decoded message: \(error)")
                    }
                    outcome.messages.append(message)
                case .failure(let error):
                    try checkError(error, insideFrame: false)
                    outcome.errors.append(error)
                    if error.closesStream { break chunks }
                }
            }
        }
        if let expectedFrames {
            let n = outcome.messages.count + outcome.errors.count
            try fuzzRequire(n == expectedFrames, "\(n) results for \(expectedFrames) frames")
        }
        return outcome
    }

    /// encode → decode → equal, and the canonical bytes are a fixed point.
    static func checkRoundTrip(_ message: Message) throws(FuzzViolation) {
        let frame: [UInt8]
        do throws(MessageError) { frame = try PaymentFrame.encode(message) } catch {
            throw FuzzViolation("\(message.type) does not re-encode: \(error)")
        }
        try fuzzRequire(frame.count > PaymentFrame.headerLength, "empty frame for \(message.type)")
        let length = frame[0..<4].reduce(0) { $0 << 8 | Int($1) }
        try fuzzRequire(length == frame.count - 4 && length <= PaymentFrame.maxPayloadLength,
                        "bad length prefix \(length) for \(frame.count - 4) bytes")
        let again: Message
        do throws(MessageError) { again = try Envelope.decode(Array(frame[4...])) } catch {
            throw FuzzViolation("re-encoded \(message.type) does not decode: \(error)")
        }
        try fuzzRequire(again == message, "round trip changed a \(message.type)")
        let frameAgain: [UInt8]
        do throws(MessageError) { frameAgain = try PaymentFrame.encode(again) } catch {
            throw FuzzViolation("second encoding failed: \(error)")
        }
        try fuzzRequire(frame == frameAgain, "canonical encoding of \(message.type) is not a fixed point")
    }

    /// The code range, which errors close the stream, and that the reply is a valid ERROR.
    static func checkError(_ error: MessageError, insideFrame: Bool) throws(FuzzViolation) {
        try fuzzRequire(errorCodes.contains(error.code.rawValue), "error code \(error.code) outside 1500…1505")
        if insideFrame {
            try fuzzRequire(!error.closesStream, "an envelope error closes the stream: \(error)")
        }
        if error.closesStream {
            try fuzzRequire(error.code == .malformedMessage, "a framing error with code \(error.code)")
        }
        let reply = Message.error(error.reply)
        try checkRoundTrip(reply)
    }
}
