/// The one error type of PaymeshMux: a struct wrapping a private code, so new cases never break
/// callers that switch over it. Two errors are equal when their codes are equal; `detail` is
/// for logs only. `name` is the stable identifier used by `Specs/vectors/mux-frames.json`.
public struct MuxError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: String, Hashable, Sendable {
        // Frame codec (peer input).
        case badVersion, unknownType, invalidFlags, frameTooLarge
        case sessionFrameOnStream, streamFrameOnSession
        // Session protocol violations by the peer (answered with GoAway(protocol error)).
        case windowExceeded, windowOverflow, streamIDParity, streamIDNotIncreasing
        case streamIDReuse, frameForUnopenedStream, dataAfterFin
        // Local API misuse or state (thrown to our own application).
        case sessionClosed, goAwayReceived, goAwaySent, tooManyStreams
        case tooManyUnacknowledgedStreams, streamIDsExhausted, unknownStream, streamNotWritable
        // Liveness and resources.
        case keepaliveTimeout, sendQueueFull
        // Stream protocol header (streams.md).
        case invalidProtocolID
    }

    private let code: Code
    /// Human-readable context; not part of equality.
    public let detail: String

    private init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public static func == (lhs: Self, rhs: Self) -> Bool { lhs.code == rhs.code }
    public func hash(into hasher: inout Hasher) { hasher.combine(code) }

    /// Stable name of the error kind, e.g. `"badVersion"`.
    public var name: String { code.rawValue }
    public var description: String { detail.isEmpty ? "mux: \(name)" : "mux: \(name): \(detail)" }

    /// True for errors caused by the peer breaking the yamux protocol (GoAway code 1).
    public var isProtocolViolation: Bool {
        switch code {
        case .badVersion, .unknownType, .invalidFlags, .frameTooLarge, .sessionFrameOnStream,
             .streamFrameOnSession, .windowExceeded, .windowOverflow, .streamIDParity,
             .streamIDNotIncreasing, .streamIDReuse, .frameForUnopenedStream, .dataAfterFin:
            return true
        default:
            return false
        }
    }

    @inline(never) public static func badVersion(_ v: UInt8) -> Self { .init(.badVersion, "version \(v)") }
    @inline(never) public static func unknownType(_ t: UInt8) -> Self { .init(.unknownType, "type \(t)") }
    @inline(never) public static func invalidFlags(_ why: String = "") -> Self { .init(.invalidFlags, why) }
    @inline(never) public static func frameTooLarge(_ why: String = "") -> Self { .init(.frameTooLarge, why) }
    @inline(never) public static func sessionFrameOnStream(_ why: String = "") -> Self { .init(.sessionFrameOnStream, why) }
    @inline(never) public static func streamFrameOnSession(_ why: String = "") -> Self { .init(.streamFrameOnSession, why) }
    @inline(never) public static func windowExceeded(_ why: String = "") -> Self { .init(.windowExceeded, why) }
    @inline(never) public static func windowOverflow(_ why: String = "") -> Self { .init(.windowOverflow, why) }
    @inline(never) public static func streamIDParity(_ why: String = "") -> Self { .init(.streamIDParity, why) }
    @inline(never) public static func streamIDNotIncreasing(_ why: String = "") -> Self { .init(.streamIDNotIncreasing, why) }
    @inline(never) public static func streamIDReuse(_ why: String = "") -> Self { .init(.streamIDReuse, why) }
    @inline(never) public static func frameForUnopenedStream(_ why: String = "") -> Self { .init(.frameForUnopenedStream, why) }
    @inline(never) public static func dataAfterFin(_ why: String = "") -> Self { .init(.dataAfterFin, why) }
    @inline(never) public static func sessionClosed() -> Self { .init(.sessionClosed, "") }
    @inline(never) public static func goAwayReceived() -> Self { .init(.goAwayReceived, "peer sent GoAway; no new streams") }
    @inline(never) public static func goAwaySent() -> Self { .init(.goAwaySent, "we sent GoAway; no new streams") }
    @inline(never) public static func tooManyStreams(_ why: String = "") -> Self { .init(.tooManyStreams, why) }
    @inline(never) public static func tooManyUnacknowledgedStreams() -> Self { .init(.tooManyUnacknowledgedStreams, "") }
    @inline(never) public static func streamIDsExhausted() -> Self { .init(.streamIDsExhausted, "") }
    @inline(never) public static func unknownStream(_ id: StreamID) -> Self { .init(.unknownStream, "\(id)") }
    @inline(never) public static func streamNotWritable(_ id: StreamID) -> Self { .init(.streamNotWritable, "\(id)") }
    @inline(never) public static func keepaliveTimeout() -> Self { .init(.keepaliveTimeout, "no ping response in time") }
    @inline(never) public static func sendQueueFull(_ why: String = "") -> Self { .init(.sendQueueFull, why) }
    /// True when the session closed because the peer let our outbound queue reach its limit.
    public var isSendQueueFull: Bool { code == .sendQueueFull }
    @inline(never) public static func invalidProtocolID(_ why: String = "") -> Self { .init(.invalidProtocolID, why) }
}
