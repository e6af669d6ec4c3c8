public import Foundation

/// EIP-191 version 0x45 ("E"), the `personal_sign` message format:
/// keccak256("\x19Ethereum Signed Message:\n" ‖ decimal byte length of message ‖ message).
public enum EIP191 {
    /// 0x19 ‖ "Ethereum Signed Message:\n" (EIP-191, version byte 0x45 = "E").
    public static let personalMessagePrefix: [UInt8] = [0x19] + Array("Ethereum Signed Message:\n".utf8)

    /// The 32-byte digest that `personal_sign` signs.
    public static func personalMessageHash(_ message: some ContiguousBytes) -> [UInt8] {
        message.withUnsafeBytes { m in
            var hasher = Keccak256()
            hasher.update(personalMessagePrefix)
            hasher.update(Array(String(m.count).utf8))
            hasher.update(buffer: m)
            return hasher.finalize()
        }
    }

    /// The digest of a text message, signed as its UTF-8 bytes.
    public static func personalMessageHash(_ message: String) -> [UInt8] {
        personalMessageHash(Array(message.utf8))
    }

    /// The address that made `signature` (65 bytes r ‖ s ‖ v, v ∈ {27, 28}) over `message`.
    public static func recoverPersonalSigner(message: some ContiguousBytes, signature: some ContiguousBytes) throws -> EthereumAddress {
        let key = try Secp256k1.recoverPublicKey(digest32: personalMessageHash(message), signature65: signature)
        return EthereumAddress(publicKey: key)
    }

    public static func recoverPersonalSigner(message: String, signature: some ContiguousBytes) throws -> EthereumAddress {
        try recoverPersonalSigner(message: Array(message.utf8), signature: signature)
    }
}
