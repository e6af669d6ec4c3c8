public import Foundation
internal import CSecp256k1

extension Secp256k1 {
    /// An ECDSA signature (r, s) with the recovery id that selects the signer's public key among
    /// the candidates. Every value of this type has 0 < r, s < n, s ≤ n/2 (EIP-2) and a
    /// recovery id of 0 or 1, so it has exactly one encoding.
    public struct RecoverableSignature: Hashable, Sendable {
        /// Ethereum's v is 27 + recovery id (Ethereum Yellow Paper, appendix F).
        public static let ethereumVOffset: UInt8 = 27
        public static let ethereumByteCount = 65

        /// r ‖ s, 32 bytes each, big-endian.
        public let compactRepresentation: [UInt8]
        /// 0 or 1.
        public let recoveryID: UInt8

        public var r: ArraySlice<UInt8> { compactRepresentation[0..<32] }
        public var s: ArraySlice<UInt8> { compactRepresentation[32..<64] }

        /// The 65-byte wire form r ‖ s ‖ v with v = 27 + recovery id.
        public var ethereumRepresentation: [UInt8] { compactRepresentation + [Self.ethereumVOffset + recoveryID] }

        /// Parses the 65-byte wire form r ‖ s ‖ v. Only v ∈ {27, 28} is accepted; high-s,
        /// zero or out-of-range r or s are rejected.
        public init(ethereumRepresentation bytes: some ContiguousBytes) throws {
            let raw = bytes.withUnsafeBytes { [UInt8]($0) }
            guard raw.count == Self.ethereumByteCount else {
                throw CryptoError.invalidSignature("must be \(Self.ethereumByteCount) bytes, got \(raw.count)")
            }
            let v = raw[64]
            guard v == Self.ethereumVOffset || v == Self.ethereumVOffset + 1 else {
                throw CryptoError.invalidSignature("v must be 27 or 28, got \(v)")
            }
            try self.init(compact64: raw[0..<64], recoveryID: v - Self.ethereumVOffset)
        }

        /// Parses r ‖ s (64 bytes) with a raw recovery id of 0 or 1 (the form libraries that
        /// write v as 0/1 use). Not for the wire, where v is 27/28.
        public init(compact64 bytes: some ContiguousBytes, recoveryID: UInt8) throws {
            let compact = bytes.withUnsafeBytes { [UInt8]($0) }
            guard compact.count == compactSignatureByteCount else {
                throw CryptoError.invalidSignature("r ‖ s must be \(compactSignatureByteCount) bytes, got \(compact.count)")
            }
            guard recoveryID <= 1 else { throw CryptoError.invalidSignature("recovery id must be 0 or 1, got \(recoveryID)") }
            guard compact[0..<32].contains(where: { $0 != 0 }), compact[32..<64].contains(where: { $0 != 0 }) else {
                throw CryptoError.invalidSignature("r and s must be nonzero")
            }
            let context = Secp256k1Context.shared.pointer
            var signature = secp256k1_ecdsa_signature()
            guard secp256k1_ecdsa_signature_parse_compact(context, &signature, compact) == 1 else {
                throw CryptoError.invalidSignature("r or s is not below the group order")
            }
            // normalize returns 1 exactly when s was in the upper half.
            guard secp256k1_ecdsa_signature_normalize(context, nil, &signature) == 0 else {
                throw CryptoError.invalidSignature("s is in the upper half of the group order (EIP-2)")
            }
            compactRepresentation = compact
            self.recoveryID = recoveryID
        }

        init(_ signature: secp256k1_ecdsa_recoverable_signature) throws {
            var signature = signature
            var compact = [UInt8](repeating: 0, count: compactSignatureByteCount)
            var recid: Int32 = 0
            guard secp256k1_ecdsa_recoverable_signature_serialize_compact(
                Secp256k1Context.shared.pointer, &compact, &recid, &signature) == 1
            else { throw CryptoError.libraryCallFailed("secp256k1_ecdsa_recoverable_signature_serialize_compact") }
            // recid 2/3 (r ≥ n after reduction) has probability about 2^-127 and Ethereum cannot express it.
            guard (0...1).contains(recid) else { throw CryptoError.invalidSignature("recovery id \(recid) not expressible as v") }
            try self.init(compact64: compact, recoveryID: UInt8(recid))
        }

        /// The public key whose signature of `digest` this is.
        public func recoverPublicKey(digest32 digest: some ContiguousBytes) throws -> PublicKey {
            let context = Secp256k1Context.shared.pointer
            var signature = secp256k1_ecdsa_recoverable_signature()
            guard secp256k1_ecdsa_recoverable_signature_parse_compact(
                context, &signature, compactRepresentation, Int32(recoveryID)) == 1
            else { throw CryptoError.invalidSignature("unparseable recoverable signature") }
            var point = secp256k1_pubkey()
            let recovered = try digest.withUnsafeBytes { d in
                try checkDigest(d)
                return secp256k1_ecdsa_recover(context, &point, &signature, d.bindMemory(to: UInt8.self).baseAddress!)
            }
            guard recovered == 1 else { throw CryptoError.invalidSignature("no public key recovers from this signature") }
            return try PublicKey(point: point)
        }
    }
}

extension Secp256k1 {
    /// Recovers the signer of a 32-byte digest from a 65-byte r ‖ s ‖ v signature (v ∈ {27, 28}).
    public static func recoverPublicKey(digest32: some ContiguousBytes, signature65: some ContiguousBytes) throws -> PublicKey {
        try RecoverableSignature(ethereumRepresentation: signature65).recoverPublicKey(digest32: digest32)
    }
}
