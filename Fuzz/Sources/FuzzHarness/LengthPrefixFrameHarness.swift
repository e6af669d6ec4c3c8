// Symlinked into Tests/PaymeshMessagesTests/FuzzHarness/.
import NIOCore
import PaymeshMessages

/// FuzzLengthPrefixFrame: the 4-byte length-prefix framing of payment streams
/// (`FrameDecoder`, `PaymentFrame.split`, Specs/messages.md §2).
///
/// The payload is a byte stream, fed to a `FrameDecoder` in the input's chunks. Invariants:
/// every frame is 1…1 MiB; the bytes consumed never exceed the bytes fed and account for
/// everything not buffered; a framing error closes the stream, has code 1501 and repeats on
/// every later call; and the frames and the error do not depend on the chunking (the same
/// stream split at once with `PaymentFrame.split` gives the same result).
public enum LengthPrefixFrameHarness {
    public struct Outcome: Equatable {
        public var frames: [[UInt8]] = []
        public var error: MessageError?
    }

    public static func run(_ data: [UInt8]) throws(FuzzViolation) -> Outcome {
        let input = FuzzInput(data)
        let chunked = try feedInChunks(input)
        let whole = try splitAtOnce(input.payload)
        try fuzzRequire(chunked == whole, "chunking changed the result: \(chunked.frames.count) frames / \(String(describing: chunked.error)) vs \(whole.frames.count) / \(String(describing: whole.error))")
        return chunked
    }

    private static func feedInChunks(_ input: FuzzInput) throws(FuzzViolation) -> Outcome {
        var decoder = FrameDecoder()
        var outcome = Outcome()
        var fed = 0
        var consumed = 0
        chunks: for chunk in input.chunks {
            decoder.feed(chunk)
            fed += chunk.count
            frames: while true {
                let frame: ByteBuffer
                switch Result(catching: { () throws(MessageError) in try decoder.nextFrame() }) {
                case .success(nil):
                    break frames
                case .success(let f?):
                    frame = f
                case .failure(let error):
                    try checkFramingError(error)
                    outcome.error = error
                    break chunks
                }
                try checkFrame(frame)
                consumed += PaymentFrame.headerLength + frame.readableBytes
                outcome.frames.append(Array(frame.readableBytesView))
                try fuzzRequire(consumed <= fed, "consumed \(consumed) of \(fed) bytes fed")
            }
            try fuzzRequire(consumed + decoder.bufferedBytes == fed,
                            "consumed \(consumed) + buffered \(decoder.bufferedBytes) != fed \(fed)")
        }
        if let error = outcome.error {
            // A failed decoder stays failed, whatever arrives next.
            decoder.feed([0, 0, 0, 1, 0])
            let again = Result(catching: { () throws(MessageError) in try decoder.nextFrame() })
            try fuzzRequire(again == .failure(error), "after \(error) the decoder returned \(again)")
        }
        try fuzzRequire(consumed <= input.payload.count, "consumed \(consumed) > input \(input.payload.count)")
        return outcome
    }

    private static func splitAtOnce(_ bytes: [UInt8]) throws(FuzzViolation) -> Outcome {
        var buffer = ByteBuffer(bytes: bytes)
        var outcome = Outcome()
        while true {
            switch Result(catching: { () throws(MessageError) in try PaymentFrame.split(&buffer) }) {
            case .success(nil):
                return outcome
            case .success(let frame?):
                try checkFrame(frame)
                outcome.frames.append(Array(frame.readableBytesView))
            case .failure(let error):
                try checkFramingError(error)
                outcome.error = error
                return outcome
            }
        }
    }

    private static func checkFrame(_ frame: ByteBuffer) throws(FuzzViolation) {
        try fuzzRequire((1...PaymentFrame.maxPayloadLength).contains(frame.readableBytes),
                        "frame of \(frame.readableBytes) bytes")
    }

    private static func checkFramingError(_ error: MessageError) throws(FuzzViolation) {
        try fuzzRequire(error.code == .malformedMessage, "framing error with code \(error.code)")
        try fuzzRequire(error.closesStream, "framing error that does not close the stream: \(error)")
    }
}
