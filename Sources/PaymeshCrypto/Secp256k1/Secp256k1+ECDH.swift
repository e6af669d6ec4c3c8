public import Foundation
internal import CSecp256k1

// ECDH and scalar tweaks on secp256k1, as Sphinx onions need them (Specs/onion.md §3):
// the shared secret is SHA-256 of the compressed product point (libsecp256k1's default ECDH
// hash), and ephemeral keys are blinded by multiplying with a 32-byte scalar.
extension Secp256k1 {
    public static let sharedSecretByteCount = 32
    public static let scalarByteCount = 32

    /// Checks that `scalar` is 32 bytes; libsecp256k1 itself rejects zero or ≥ n.
    static func checkScalar(_ scalar: UnsafeRawBufferPointer) throws {
        guard scalar.count == scalarByteCount else {
            throw CryptoError.invalidInput("scalar must be \(scalarByteCount) bytes, got \(scalar.count)")
        }
    }
}

extension Secp256k1.PrivateKey {
    /// A short-lived key (an onion's session or blinded ephemeral key): wiped when freed, but
    /// not locked in memory (two syscalls per key would dominate onion construction).
    public init(ephemeralRawRepresentation bytes: some ContiguousBytes) throws {
        try self.init(secret: SecureBytes(copying: bytes))
    }

    /// SHA-256(compressed(self · point)): libsecp256k1's `secp256k1_ecdh` with its default hash
    /// (SHA-256 of 0x02/0x03 ‖ x), in self-wiping storage.
    public func sharedSecret(with point: Secp256k1.PublicKey) throws -> SecureBytes {
        let context = Secp256k1Context.shared.pointer
        var parsed = try point.parsed()
        let out = SecureBytes(count: Secp256k1.sharedSecretByteCount)
        let ok = out.withUnsafeMutableBytes { o in
            withUnsafeRawRepresentation { k in
                secp256k1_ecdh(context, o.bindMemory(to: UInt8.self).baseAddress!, &parsed,
                               k.bindMemory(to: UInt8.self).baseAddress!, nil, nil)
            }
        }
        guard ok == 1 else { throw CryptoError.libraryCallFailed("secp256k1_ecdh") }
        return out
    }

    /// self · scalar mod n (`secp256k1_ec_seckey_tweak_mul`); the result is an ephemeral key.
    public func multiplied(byScalar scalar: some ContiguousBytes) throws -> Secp256k1.PrivateKey {
        let context = Secp256k1Context.shared.pointer
        let product = withUnsafeRawRepresentation { SecureBytes(copying: $0) }
        let ok = try scalar.withUnsafeBytes { s in
            try Secp256k1.checkScalar(s)
            return product.withUnsafeMutableBytes { p in
                secp256k1_ec_seckey_tweak_mul(context, p.bindMemory(to: UInt8.self).baseAddress!,
                                              s.bindMemory(to: UInt8.self).baseAddress!)
            }
        }
        guard ok == 1 else { throw CryptoError.invalidInput("scalar is zero or not below the group order") }
        return try Secp256k1.PrivateKey(secret: product)
    }
}

extension Secp256k1.PublicKey {
    /// scalar · self (`secp256k1_ec_pubkey_tweak_mul`).
    public func multiplied(byScalar scalar: some ContiguousBytes) throws -> Secp256k1.PublicKey {
        let context = Secp256k1Context.shared.pointer
        var point = try parsed()
        let ok = try scalar.withUnsafeBytes { s in
            try Secp256k1.checkScalar(s)
            return secp256k1_ec_pubkey_tweak_mul(context, &point, s.bindMemory(to: UInt8.self).baseAddress!)
        }
        guard ok == 1 else { throw CryptoError.invalidInput("scalar is zero or not below the group order") }
        return try Secp256k1.PublicKey(point: point)
    }
}
