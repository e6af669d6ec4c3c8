/// The one error type of PaymeshNoise: a struct wrapping a private code, with a cold-path
/// factory per failure. Every one of these is caused by the peer or by a caller misusing a
/// state machine from outside; after any of them the connection must be closed.
public struct NoiseError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case decryptFailed
        case messageTooLarge(length: Int, maximum: Int)
        case truncatedMessage(needed: Int, available: Int)
        case emptyMessage
        case unexpectedMessage(String)
        case handshakeAlreadyComplete
        case handshakeNotComplete
        case handshakeFailed
        case nonceExhausted(limit: UInt64)
        case invalidPublicKey
        case missingKey(String)
        case unsupportedProtocol(String)
        case badFrameLength(Int)
        case invalidIdentityProof(String)
        case selfConnection
        case unexpectedPeer(expected: String, actual: String)
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    /// An AEAD tag did not verify (tampered, reordered, or from a different key).
    @inline(never) public static func decryptFailed() -> Self { .init(.decryptFailed) }
    /// A Noise message or plaintext is longer than the protocol allows (rev 34 §3: 65535 bytes).
    @inline(never) public static func messageTooLarge(length: Int, maximum: Int) -> Self {
        .init(.messageTooLarge(length: length, maximum: maximum))
    }
    /// A handshake message ended before a token's bytes were all present.
    @inline(never) public static func truncatedMessage(needed: Int, available: Int) -> Self {
        .init(.truncatedMessage(needed: needed, available: available))
    }
    /// A zero-length transport plaintext (forbidden in paymesh/1).
    @inline(never) public static func emptyMessage() -> Self { .init(.emptyMessage) }
    /// A message arrived (or was to be sent) out of turn.
    @inline(never) public static func unexpectedMessage(_ why: String) -> Self { .init(.unexpectedMessage(why)) }
    @inline(never) public static func handshakeAlreadyComplete() -> Self { .init(.handshakeAlreadyComplete) }
    @inline(never) public static func handshakeNotComplete() -> Self { .init(.handshakeNotComplete) }
    /// The handshake already failed once; a Noise handshake cannot be resumed after an error.
    @inline(never) public static func handshakeFailed() -> Self { .init(.handshakeFailed) }
    /// A cipher's counter reached its limit; the connection must be closed (no rekey in paymesh/1).
    @inline(never) public static func nonceExhausted(limit: UInt64) -> Self { .init(.nonceExhausted(limit: limit)) }
    /// A DH with the peer's key gave the all-zero output (low-order point), or a key is malformed.
    @inline(never) public static func invalidPublicKey() -> Self { .init(.invalidPublicKey) }
    /// The pattern needs a key that was not supplied (local static, or pre-known remote static).
    @inline(never) public static func missingKey(_ which: String) -> Self { .init(.missingKey(which)) }
    @inline(never) public static func unsupportedProtocol(_ name: String) -> Self { .init(.unsupportedProtocol(name)) }
    /// A TCP frame length prefix is not acceptable (zero, or above the decoder's maximum).
    @inline(never) public static func badFrameLength(_ length: Int) -> Self { .init(.badFrameLength(length)) }
    /// The peer's identity proof is malformed or does not bind its static key (transport.md §4).
    @inline(never) public static func invalidIdentityProof(_ why: String) -> Self { .init(.invalidIdentityProof(why)) }
    /// The peer proved our own identity: a node never connects to itself.
    @inline(never) public static func selfConnection() -> Self { .init(.selfConnection) }
    /// The dialer expected another identity.
    @inline(never) public static func unexpectedPeer(expected: String, actual: String) -> Self {
        .init(.unexpectedPeer(expected: expected, actual: actual))
    }

    public var isDecryptFailure: Bool { code == .decryptFailed }
    public var isNonceExhausted: Bool { if case .nonceExhausted = code { return true } else { return false } }
    public var isUnexpectedMessage: Bool { if case .unexpectedMessage = code { return true } else { return false } }
    public var isMessageTooLarge: Bool { if case .messageTooLarge = code { return true } else { return false } }
    public var isInvalidIdentityProof: Bool { if case .invalidIdentityProof = code { return true } else { return false } }
    public var isSelfConnection: Bool { if case .selfConnection = code { return true } else { return false } }
    public var isUnexpectedPeer: Bool { if case .unexpectedPeer = code { return true } else { return false } }
    public var isBadFrameLength: Bool { if case .badFrameLength = code { return true } else { return false } }
    public var isTruncated: Bool { if case .truncatedMessage = code { return true } else { return false } }

    public var description: String {
        switch code {
        case .decryptFailed: return "noise: decryption failed (bad tag)"
        case .messageTooLarge(let l, let m): return "noise: message of \(l) bytes exceeds \(m)"
        case .truncatedMessage(let n, let a): return "noise: truncated message (needed \(n) bytes, have \(a))"
        case .emptyMessage: return "noise: empty transport message"
        case .unexpectedMessage(let why): return "noise: unexpected message: \(why)"
        case .handshakeAlreadyComplete: return "noise: handshake already complete"
        case .handshakeNotComplete: return "noise: handshake not complete"
        case .handshakeFailed: return "noise: handshake failed earlier"
        case .nonceExhausted(let l): return "noise: nonce limit \(l) reached"
        case .invalidPublicKey: return "noise: invalid public key"
        case .missingKey(let w): return "noise: missing key: \(w)"
        case .unsupportedProtocol(let n): return "noise: unsupported protocol \(n)"
        case .invalidIdentityProof(let why): return "noise: invalid identity proof: \(why)"
        case .selfConnection: return "noise: the peer is this node (self-connection)"
        case .unexpectedPeer(let e, let a): return "noise: expected peer \(e), got \(a)"
        case .badFrameLength(let l): return "noise: bad frame length \(l)"
        }
    }
}
