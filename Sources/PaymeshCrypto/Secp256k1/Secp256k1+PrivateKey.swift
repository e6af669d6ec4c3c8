public import Foundation
internal import CSecp256k1

extension Secp256k1 {
    /// A secp256k1 secret scalar in [1, n−1], held in self-wiping storage.
    public struct PrivateKey: Sendable, CustomStringConvertible {
        private let secret: SecureBytes
        public let publicKey: PublicKey

        /// Checks the 32 bytes with `secp256k1_ec_seckey_verify` (nonzero and below the order n).
        public init(rawRepresentation: some ContiguousBytes) throws {
            let secret = SecureBytes(copying: rawRepresentation, lockedInMemory: true) // long-lived identity keys
            try self.init(secret: secret)
        }

        init(secret: SecureBytes) throws {
            guard secret.count == privateKeyByteCount else {
                throw CryptoError.invalidKeyLength(expected: privateKeyByteCount, actual: secret.count)
            }
            let context = Secp256k1Context.shared.pointer
            let valid = secret.withUnsafeBytes { secp256k1_ec_seckey_verify(context, $0.bindMemory(to: UInt8.self).baseAddress!) }
            guard valid == 1 else { throw CryptoError.invalidKey("secp256k1 secret is zero or not below the group order") }
            var point = secp256k1_pubkey()
            let created = secret.withUnsafeBytes {
                secp256k1_ec_pubkey_create(context, &point, $0.bindMemory(to: UInt8.self).baseAddress!)
            }
            guard created == 1 else { throw CryptoError.libraryCallFailed("secp256k1_ec_pubkey_create") }
            self.secret = secret
            self.publicKey = try PublicKey(point: point)
        }

        /// A fresh key from the system's secure random generator.
        public static func generate() -> PrivateKey {
            while true {
                // A uniformly random 32-byte string is out of range with probability about 2^-128.
                if let key = try? PrivateKey(secret: SecureBytes.random(count: privateKeyByteCount, lockedInMemory: true)) { return key }
            }
        }

        /// Lends out the 32 secret bytes (big-endian scalar); do not let them escape.
        public func withUnsafeRawRepresentation<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
            try secret.withUnsafeBytes(body)
        }

        /// Signs a 32-byte digest: ECDSA with an RFC 6979 deterministic nonce (libsecp256k1's
        /// default nonce function). libsecp256k1 always returns low-s signatures (EIP-2).
        public func sign(digest32 digest: some ContiguousBytes) throws -> RecoverableSignature {
            let context = Secp256k1Context.shared.pointer
            var signature = secp256k1_ecdsa_recoverable_signature()
            let signed = try digest.withUnsafeBytes { d in
                try checkDigest(d)
                return secret.withUnsafeBytes { k in
                    secp256k1_ecdsa_sign_recoverable(context, &signature, d.bindMemory(to: UInt8.self).baseAddress!,
                                                     k.bindMemory(to: UInt8.self).baseAddress!, nil, nil)
                }
            }
            guard signed == 1 else { throw CryptoError.libraryCallFailed("secp256k1_ecdsa_sign_recoverable") }
            return try RecoverableSignature(signature)
        }

        /// Never prints the secret.
        public var description: String { "Secp256k1.PrivateKey(public: \(publicKey), secret redacted)" }
    }
}
