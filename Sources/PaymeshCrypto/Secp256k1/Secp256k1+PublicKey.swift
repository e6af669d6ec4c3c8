public import Foundation
internal import CSecp256k1

extension Secp256k1 {
    /// A point on secp256k1 (never the point at infinity), kept in its 65-byte SEC 1 form.
    public struct PublicKey: Hashable, Sendable, CustomStringConvertible {
        /// 0x04 ‖ x ‖ y (65 bytes).
        public let uncompressedRepresentation: [UInt8]
        /// 0x02/0x03 ‖ x (33 bytes).
        public let compressedRepresentation: [UInt8]

        /// Parses a SEC 1 encoded point: 33 bytes (0x02/0x03 ‖ x) or 65 bytes (0x04 ‖ x ‖ y).
        /// Hybrid encodings (0x06/0x07) and points off the curve are rejected.
        public init(serialized bytes: some ContiguousBytes) throws {
            let point = try bytes.withUnsafeBytes { raw -> secp256k1_pubkey in
                let prefix = raw.first
                switch raw.count {
                case compressedPublicKeyByteCount where prefix == 0x02 || prefix == 0x03: break
                case uncompressedPublicKeyByteCount where prefix == 0x04: break
                default: throw CryptoError.invalidKey("public key must be 33 bytes (0x02/0x03) or 65 bytes (0x04), got \(raw.count)")
                }
                var point = secp256k1_pubkey()
                let parsed = secp256k1_ec_pubkey_parse(Secp256k1Context.shared.pointer, &point,
                                                       raw.bindMemory(to: UInt8.self).baseAddress!, raw.count)
                guard parsed == 1 else { throw CryptoError.invalidKey("public key is not a point on secp256k1") }
                return point
            }
            try self.init(point: point)
        }

        init(point: secp256k1_pubkey) throws {
            uncompressedRepresentation = try Self.serialize(point, flags: UInt32(SECP256K1_EC_UNCOMPRESSED),
                                                            count: uncompressedPublicKeyByteCount)
            compressedRepresentation = try Self.serialize(point, flags: UInt32(SECP256K1_EC_COMPRESSED),
                                                          count: compressedPublicKeyByteCount)
        }

        /// True when `signature` (its r ‖ s; the recovery id is ignored) is a valid low-s ECDSA
        /// signature of `digest` by this key. High-s signatures are rejected (EIP-2).
        public func isValidSignature(_ signature: RecoverableSignature, digest32 digest: some ContiguousBytes) -> Bool {
            isValidSignature(compact64: signature.compactRepresentation, digest32: digest)
        }

        /// The same check for a 64-byte r ‖ s signature; false on any malformed input.
        public func isValidSignature(compact64: some ContiguousBytes, digest32 digest: some ContiguousBytes) -> Bool {
            let context = Secp256k1Context.shared.pointer
            guard var point = try? parsed() else { return false }
            var signature = secp256k1_ecdsa_signature()
            let parsedSignature = compact64.withUnsafeBytes { s in
                s.count == compactSignatureByteCount
                    && secp256k1_ecdsa_signature_parse_compact(context, &signature, s.bindMemory(to: UInt8.self).baseAddress!) == 1
            }
            guard parsedSignature else { return false }
            return digest.withUnsafeBytes { d in
                d.count == digestByteCount
                    && secp256k1_ecdsa_verify(context, &signature, d.bindMemory(to: UInt8.self).baseAddress!, &point) == 1
            }
        }

        public var description: String { "Secp256k1.PublicKey(\(compressedRepresentation.hexString))" }

        func parsed() throws -> secp256k1_pubkey {
            var point = secp256k1_pubkey()
            let ok = secp256k1_ec_pubkey_parse(Secp256k1Context.shared.pointer, &point,
                                               uncompressedRepresentation, uncompressedRepresentation.count)
            guard ok == 1 else { throw CryptoError.invalidKey("public key is not a point on secp256k1") }
            return point
        }

        private static func serialize(_ point: secp256k1_pubkey, flags: UInt32, count: Int) throws -> [UInt8] {
            var point = point
            var out = [UInt8](repeating: 0, count: count)
            var length = count
            let ok = secp256k1_ec_pubkey_serialize(Secp256k1Context.shared.pointer, &out, &length, &point, flags)
            guard ok == 1, length == count else { throw CryptoError.libraryCallFailed("secp256k1_ec_pubkey_serialize") }
            return out
        }
    }
}
