public import Foundation
import PaymeshCrypto

/// Noise rev 34 §5.2 SymmetricState over SHA256: chaining key `ck`, handshake hash `h`, and a
/// CipherState. Key material is replaced (never mutated in place), so copies stay independent.
public struct SymmetricState: Sendable {
    private var chainingKey: SecureBytes
    /// `h`: public transcript hash (the channel binding once the handshake completes).
    public private(set) var handshakeHash: [UInt8]
    public private(set) var cipher = CipherState()

    /// `InitializeSymmetric(protocol_name)`.
    public init(protocolName: String) {
        let name = Array(protocolName.utf8)
        if name.count <= NoiseLimits.hashLength {
            handshakeHash = name + [UInt8](repeating: 0, count: NoiseLimits.hashLength - name.count)
        } else {
            handshakeHash = SHA256.hash(name)
        }
        chainingKey = SecureBytes(copying: handshakeHash)
    }

    /// `MixKey(ikm)`: ck, temp_k = HKDF(ck, ikm, 2); InitializeKey(temp_k).
    public mutating func mixKey(_ inputKeyMaterial: some ContiguousBytes) {
        let (ck, tempKey) = HKDF.noise2(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial)
        chainingKey = ck
        cipher = Self.cipherState(tempKey)
    }

    /// `MixHash(data)`: h = HASH(h ‖ data).
    public mutating func mixHash(_ data: some ContiguousBytes) {
        var hasher = SHA256()
        hasher.update(handshakeHash)
        hasher.update(data)
        handshakeHash = hasher.finalize()
    }

    /// `MixKeyAndHash(ikm)` (§5.2, used by psk patterns).
    public mutating func mixKeyAndHash(_ inputKeyMaterial: some ContiguousBytes) {
        let (ck, tempH, tempK) = HKDF.noise3(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial)
        chainingKey = ck
        mixHash(tempH)
        cipher = Self.cipherState(tempK)
    }

    /// `EncryptAndHash(plaintext)`.
    public mutating func encryptAndHash(_ plaintext: some ContiguousBytes) throws -> [UInt8] {
        let ciphertext = try cipher.encryptWithAd(handshakeHash, plaintext: plaintext)
        mixHash(ciphertext)
        return ciphertext
    }

    /// `DecryptAndHash(ciphertext)`; throws `NoiseError.decryptFailed` on a bad tag.
    public mutating func decryptAndHash(_ ciphertext: some ContiguousBytes) throws -> [UInt8] {
        let plaintext = try cipher.decryptWithAd(handshakeHash, ciphertext: ciphertext)
        mixHash(ciphertext)
        return plaintext
    }

    /// `Split()`: two CipherStates keyed from HKDF(ck, empty, 2).
    public func split(nonceLimit: UInt64 = NoiseLimits.reservedNonce) -> (CipherState, CipherState) {
        let (k1, k2) = HKDF.noise2(chainingKey: chainingKey, inputKeyMaterial: [UInt8]())
        return (Self.cipherState(k1).withNonceLimit(nonceLimit), Self.cipherState(k2).withNonceLimit(nonceLimit))
    }

    private static func cipherState(_ key: SecureBytes) -> CipherState {
        // HKDF outputs are always HASHLEN = 32 bytes, the ChaChaPoly key size.
        do { return try CipherState(key: key) } catch { preconditionFailure("HKDF output is not a key: \(error)") }
    }
}
