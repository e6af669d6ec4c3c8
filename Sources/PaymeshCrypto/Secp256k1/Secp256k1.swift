/// ECDSA over secp256k1 (SEC 2 §2.4.1) through libsecp256k1, as Ethereum uses it: 32-byte
/// digests, RFC 6979 deterministic nonces, low-s signatures (EIP-2) with a recovery id.
public enum Secp256k1 {
    public static let privateKeyByteCount = 32
    public static let digestByteCount = 32
    public static let compressedPublicKeyByteCount = 33   // SEC 1 §2.3.3: 0x02/0x03 ‖ x
    public static let uncompressedPublicKeyByteCount = 65 // SEC 1 §2.3.3: 0x04 ‖ x ‖ y
    public static let compactSignatureByteCount = 64      // r ‖ s, 32 bytes each, big-endian

    static func checkDigest(_ digest: some Collection<UInt8>) throws {
        guard digest.count == digestByteCount else {
            throw CryptoError.invalidInput("digest must be \(digestByteCount) bytes, got \(digest.count)")
        }
    }
}
