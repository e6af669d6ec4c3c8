public import PaymeshMessages

/// The one error type of PaymeshOnion: a struct wrapping a private code, with cold-path
/// factories. Every malformed packet, payload or failure is one of these, never a crash.
public struct OnionError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case wrongPacketLength(Int)
        case unknownVersion(UInt8)
        case invalidEphemeralKey
        case hmacMismatch
        case malformedHopPayload(String)
        case invalidRoute(String)
        case invalidFailure(String)
        case unattributableFailure
        case malformedPayload(String)
        case cryptoFailure(String)
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    @inline(never) public static func wrongPacketLength(_ n: Int) -> Self { .init(.wrongPacketLength(n)) }
    @inline(never) public static func unknownVersion(_ v: UInt8) -> Self { .init(.unknownVersion(v)) }
    @inline(never) public static func invalidEphemeralKey() -> Self { .init(.invalidEphemeralKey) }
    @inline(never) public static func hmacMismatch() -> Self { .init(.hmacMismatch) }
    @inline(never) public static func malformedHopPayload(_ why: String) -> Self { .init(.malformedHopPayload(why)) }
    @inline(never) public static func invalidRoute(_ why: String) -> Self { .init(.invalidRoute(why)) }
    @inline(never) public static func invalidFailure(_ why: String) -> Self { .init(.invalidFailure(why)) }
    @inline(never) public static func unattributableFailure() -> Self { .init(.unattributableFailure) }
    @inline(never) public static func malformedPayload(_ why: String) -> Self { .init(.malformedPayload(why)) }
    @inline(never) static func crypto(_ error: any Error) -> Self { .init(.cryptoFailure("\(error)")) }

    /// True when the packet's HMAC did not verify (tampering, wrong key, wrong associated data).
    public var isHMACMismatch: Bool { code == .hmacMismatch }
    /// True when no hop's `um` key authenticates a failure packet.
    public var isUnattributable: Bool { code == .unattributableFailure }

    /// The Specs/errors.md code a hop sends back upstream for this error: a packet it cannot
    /// decrypt or parse is INVALID_ONION (1406); a well-formed onion whose Paymesh payload is
    /// malformed is INVALID_ONION too (the sender built it). A route the local node was asked to
    /// build, or a failure it cannot read, is not a peer's onion and maps to 1402.
    public var wireCode: PaymeshErrorCode {
        switch code {
        case .wrongPacketLength, .unknownVersion, .invalidEphemeralKey, .hmacMismatch, .malformedHopPayload, .malformedPayload:
            return .invalidOnion
        case .invalidRoute, .invalidFailure, .unattributableFailure, .cryptoFailure:
            return .htlcRoutingFailed
        }
    }

    public var description: String {
        switch code {
        case .wrongPacketLength(let n): return "onion: packet must be \(OnionLimits.packetLength) bytes, got \(n)"
        case .unknownVersion(let v): return "onion: unknown packet version \(v)"
        case .invalidEphemeralKey: return "onion: ephemeral key is not a point on secp256k1"
        case .hmacMismatch: return "onion: HMAC does not verify"
        case .malformedHopPayload(let why): return "onion: malformed hop payload: \(why)"
        case .invalidRoute(let why): return "onion: invalid route: \(why)"
        case .invalidFailure(let why): return "onion: invalid failure packet: \(why)"
        case .unattributableFailure: return "onion: no hop of the route authenticates the failure packet"
        case .malformedPayload(let why): return "onion: malformed Paymesh payload: \(why)"
        case .cryptoFailure(let why): return "onion: \(why)"
        }
    }
}
