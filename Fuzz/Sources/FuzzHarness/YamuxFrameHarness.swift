// Symlinked into Tests/PaymeshMuxTests/FuzzHarness/.
import NIOCore
import PaymeshMux

/// FuzzYamuxFrame: the yamux frame decoder alone (`YamuxFrameDecoder`, Specs/mux.md).
///
/// The payload is the inbound byte stream, appended in the input's chunks. Invariants: each
/// frame re-encodes to exactly the bytes it was decoded from, so the frames concatenate to a
/// prefix of the input; consumed plus buffered bytes equal the bytes fed; a Data payload is
/// never larger than the decoder's limit; and the frames and the error do not depend on the
/// chunking. Mode bit 0 selects a small `maxDataLength` (4096) so the limit is reachable.
public enum YamuxFrameHarness {
    public struct Outcome: Equatable {
        public var frames: [YamuxFrame] = []
        public var error: MuxError?
    }

    public static func run(_ data: [UInt8]) throws(FuzzViolation) -> Outcome {
        let input = FuzzInput(data)
        let limit: UInt32 = input.mode & 1 == 0 ? MuxConfiguration.defaultMaxDataFrameLength : 4_096
        let chunked = try decode(input.chunks, limit: limit, payload: input.payload)
        let whole = try decode(input.payload.isEmpty ? [] : [input.payload[...]], limit: limit, payload: input.payload)
        try fuzzRequire(chunked == whole, "chunking changed the result: \(chunked.frames.count) frames / \(String(describing: chunked.error)) vs \(whole.frames.count) / \(String(describing: whole.error))")
        return chunked
    }

    private static func decode(_ chunks: [ArraySlice<UInt8>], limit: UInt32, payload: [UInt8]) throws(FuzzViolation) -> Outcome {
        var decoder = YamuxFrameDecoder(maxDataLength: limit)
        var outcome = Outcome()
        var encoded = ByteBuffer()
        var fed = 0
        chunks: for chunk in chunks {
            decoder.append(ByteBuffer(bytes: chunk))
            fed += chunk.count
            frames: while true {
                switch Result(catching: { () throws(MuxError) in try decoder.next() }) {
                case .success(nil):
                    break frames
                case .success(let frame?):
                    try check(frame, limit: limit)
                    frame.encode(into: &encoded)
                    outcome.frames.append(frame)
                case .failure(let error):
                    try fuzzRequire(error.isProtocolViolation, "decoder error \(error) is not a protocol violation")
                    outcome.error = error
                    break chunks
                }
            }
            try fuzzRequire(encoded.readableBytes + decoder.bufferedBytes == fed,
                            "consumed \(encoded.readableBytes) + buffered \(decoder.bufferedBytes) != fed \(fed)")
        }
        try fuzzRequire(encoded.readableBytesView.elementsEqual(payload.prefix(encoded.readableBytes)),
                        "re-encoded frames differ from the input bytes")
        return outcome
    }

    private static func check(_ frame: YamuxFrame, limit: UInt32) throws(FuzzViolation) {
        switch frame.type {
        case .data:
            try fuzzRequire(Int(frame.length) == frame.payload.readableBytes, "Data length \(frame.length) != payload \(frame.payload.readableBytes)")
            try fuzzRequire(frame.length <= limit, "Data frame of \(frame.length) > \(limit)")
            try fuzzRequire(frame.streamID != .session, "Data on stream 0")
        case .windowUpdate:
            try fuzzRequire(frame.payload.readableBytes == 0, "WindowUpdate with a payload")
            try fuzzRequire(frame.streamID != .session, "WindowUpdate on stream 0")
        case .ping, .goAway:
            try fuzzRequire(frame.payload.readableBytes == 0, "\(frame.type) with a payload")
            try fuzzRequire(frame.streamID == .session, "\(frame.type) on \(frame.streamID)")
        }
        try fuzzRequire(frame.flags.isSubset(of: [.syn, .ack, .fin, .rst]), "unknown flags \(frame.flags.rawValue)")
    }
}
