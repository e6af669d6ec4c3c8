public import Foundation
import PaymeshCrypto

/// The 32-byte secret one hop shares with the origin: SHA-256 of the compressed ECDH point
/// (Specs/onion.md §3.1). Self-wiping.
public struct SharedSecret: Sendable, CustomStringConvertible {
    let bytes: SecureBytes

    public init(copying raw: some ContiguousBytes) throws(OnionError) {
        let n = raw.withUnsafeBytes { $0.count }
        guard n == Secp256k1.sharedSecretByteCount else { throw .invalidRoute("shared secret must be 32 bytes, got \(n)") }
        bytes = SecureBytes(copying: raw)
    }

    init(_ bytes: SecureBytes) { self.bytes = bytes }

    /// ECDH of a private key and a point.
    static func derive(_ key: Secp256k1.PrivateKey, _ point: Secp256k1.PublicKey) throws(OnionError) -> SharedSecret {
        do { return SharedSecret(try key.sharedSecret(with: point)) } catch { throw .crypto(error) }
    }

    /// HMAC-SHA256(key = ASCII key type, message = secret) (Specs/onion.md §3.2).
    func key(_ type: SphinxKeyType) -> SecureBytes { type.derive(from: bytes) }

    /// Constant-time equality (tests and attribution).
    public func constantTimeEquals(_ other: SharedSecret) -> Bool { bytes.constantTimeEquals(other.bytes) }

    /// Lends the 32 bytes (tests compare them with vectors); do not let them escape.
    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes(body)
    }

    public var description: String { "SharedSecret(redacted)" }
}

/// The key types of BOLT 4 "Key Generation".
enum SphinxKeyType: String {
    case rho, mu, um, ammag, pad

    /// HMAC-SHA256(key = ASCII name, message = secret), in self-wiping storage.
    func derive(from secret: some ContiguousBytes) -> SecureBytes {
        let out = SecureBytes(count: HMACSHA256.macLength)
        var mac = HMACSHA256(key: Array(rawValue.utf8))
        mac.update(secret)
        out.withUnsafeMutableBytes { mac.finalize(into: $0) }
        return out
    }
}

extension SharedSecret {
    /// The `ammag` and `um` keys, exposed for tests against published vectors.
    public func failureKeys() -> (um: [UInt8], ammag: [UInt8]) {
        (key(.um).withUnsafeBytes { [UInt8]($0) }, key(.ammag).withUnsafeBytes { [UInt8]($0) })
    }
}
