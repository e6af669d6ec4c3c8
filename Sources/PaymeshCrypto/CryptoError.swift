/// The one error type of PaymeshCrypto: a struct wrapping a private code, so new cases never
/// break callers that switch over it. Each failure has a cold-path factory.
public struct CryptoError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case libraryInitFailed
        case invalidKeyLength(expected: Int, actual: Int)
        case invalidKey(String)
        case invalidSignature(String)
        case invalidInput(String)
        case authenticationFailed
        case libraryCallFailed(String)
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    @inline(never) public static func libraryInitFailed() -> Self { .init(.libraryInitFailed) }
    @inline(never) public static func invalidKeyLength(expected: Int, actual: Int) -> Self {
        .init(.invalidKeyLength(expected: expected, actual: actual))
    }
    @inline(never) public static func invalidKey(_ why: String) -> Self { .init(.invalidKey(why)) }
    @inline(never) public static func invalidSignature(_ why: String) -> Self { .init(.invalidSignature(why)) }
    @inline(never) public static func invalidInput(_ why: String) -> Self { .init(.invalidInput(why)) }
    @inline(never) public static func authenticationFailed() -> Self { .init(.authenticationFailed) }
    @inline(never) public static func libraryCallFailed(_ function: String) -> Self { .init(.libraryCallFailed(function)) }

    /// True when an AEAD tag (or MAC) did not verify.
    public var isAuthenticationFailure: Bool { code == .authenticationFailed }

    public var description: String {
        switch code {
        case .libraryInitFailed: return "crypto: library initialisation failed"
        case .invalidKeyLength(let e, let a): return "crypto: key must be \(e) bytes, got \(a)"
        case .invalidKey(let why): return "crypto: invalid key: \(why)"
        case .invalidSignature(let why): return "crypto: invalid signature: \(why)"
        case .invalidInput(let why): return "crypto: invalid input: \(why)"
        case .authenticationFailed: return "crypto: authentication failed (bad tag)"
        case .libraryCallFailed(let f): return "crypto: \(f) failed"
        }
    }
}
