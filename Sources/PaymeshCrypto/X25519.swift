public import Foundation
internal import CSodium

/// X25519 Diffie-Hellman (RFC 7748) over libsodium's `crypto_scalarmult`.
public enum X25519 {
    /// Length of private keys, public keys and shared secrets (RFC 7748 §5).
    public static let keyLength = 32

    /// A public key: 32 bytes, any value accepted (low-order points are caught by `sharedSecret`).
    public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
        public let rawRepresentation: [UInt8]

        public init(rawRepresentation: some ContiguousBytes) throws {
            let bytes = rawRepresentation.withUnsafeBytes { Array($0) }
            guard bytes.count == X25519.keyLength else {
                throw CryptoError.invalidKeyLength(expected: X25519.keyLength, actual: bytes.count)
            }
            self.rawRepresentation = bytes
        }

        public var description: String { "X25519.PublicKey(\(rawRepresentation.hexString))" }
    }

    /// A private scalar in wiping storage, clamped at construction exactly as libsodium clamps
    /// inside `crypto_scalarmult` (clear bits 0–2 and 255, set bit 254; RFC 7748 §5).
    public struct PrivateKey: Sendable, CustomStringConvertible {
        private let scalar: SecureBytes
        /// The matching public key (`crypto_scalarmult_base`).
        public let publicKey: PublicKey

        /// A fresh random key.
        public init() {
            let secret = SecureBytes.random(count: X25519.keyLength)
            // A random 32-byte scalar always yields a valid key; failure means libsodium is broken.
            do { try self.init(clamping: secret) } catch {
                preconditionFailure("crypto_scalarmult_base failed on a random scalar: \(error)")
            }
        }

        /// Imports a raw 32-byte scalar (clamped here; the caller's copy is not modified).
        public init(rawRepresentation: some ContiguousBytes) throws {
            let count = rawRepresentation.withUnsafeBytes { $0.count }
            guard count == X25519.keyLength else {
                throw CryptoError.invalidKeyLength(expected: X25519.keyLength, actual: count)
            }
            try self.init(clamping: SecureBytes(copying: rawRepresentation))
        }

        private init(clamping secret: SecureBytes) throws {
            Sodium.ensure()
            secret.withUnsafeMutableBytes { s in
                s[0] &= 248
                s[31] &= 127
                s[31] |= 64
            }
            var pub = [UInt8](repeating: 0, count: X25519.keyLength)
            let rc = secret.withUnsafeBytes { s in
                pub.withUnsafeMutableBytes { p in
                    crypto_scalarmult_base(p.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                           s.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
            guard rc == 0 else { throw CryptoError.libraryCallFailed("crypto_scalarmult_base") }
            self.scalar = secret
            self.publicKey = try PublicKey(rawRepresentation: pub)
        }

        /// Reads the clamped scalar without copying it out of wiping storage.
        public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try scalar.withUnsafeBytes(body)
        }

        /// DH(self, peer). Throws `invalidKey` when the result is all zero, which happens exactly
        /// when the peer's point has small order (RFC 7748 §6.1 "check ... all-zero value").
        public func sharedSecret(with peer: PublicKey) throws -> SecureBytes {
            Sodium.ensure()
            let out = SecureBytes(count: X25519.keyLength)
            let rc = scalar.withUnsafeBytes { s in
                peer.rawRepresentation.withUnsafeBytes { p in
                    out.withUnsafeMutableBytes { o in
                        crypto_scalarmult(o.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                          s.baseAddress!.assumingMemoryBound(to: UInt8.self),
                                          p.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
            // libsodium returns -1 for an all-zero result; check the bytes too (constant time).
            let allZero = out.withUnsafeBytes { sodium_is_zero($0.baseAddress!.assumingMemoryBound(to: UInt8.self), $0.count) } == 1
            guard rc == 0, !allZero else { throw CryptoError.invalidKey("X25519 shared secret is zero (low-order public key)") }
            return out
        }

        public var description: String { "X25519.PrivateKey(public: \(publicKey.rawRepresentation.hexString))" }
    }
}
