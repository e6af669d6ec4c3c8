public import Foundation

/// A node's long-term identity: a secp256k1 key and the Ethereum address that names the node.
/// Signatures it returns are the 65-byte wire form r ‖ s ‖ v, v ∈ {27, 28}, low-s.
public struct IdentityKey: Sendable, CustomStringConvertible {
    public let privateKey: Secp256k1.PrivateKey
    public let address: EthereumAddress

    public init(privateKey: Secp256k1.PrivateKey) {
        self.privateKey = privateKey
        self.address = EthereumAddress(publicKey: privateKey.publicKey)
    }

    public static func generate() -> IdentityKey {
        IdentityKey(privateKey: .generate())
    }

    public var publicKey: Secp256k1.PublicKey { privateKey.publicKey }

    /// Signs a 32-byte digest (such as an EIP-712 digest) as it is.
    public func sign(digest32: some ContiguousBytes) throws -> [UInt8] {
        try privateKey.sign(digest32: digest32).ethereumRepresentation
    }

    /// EIP-191 `personal_sign` of `message`'s bytes.
    public func personalSign(message: some ContiguousBytes) throws -> [UInt8] {
        try sign(digest32: EIP191.personalMessageHash(message))
    }

    /// EIP-191 `personal_sign` of `message`'s UTF-8 bytes.
    public func personalSign(message: String) throws -> [UInt8] {
        try personalSign(message: Array(message.utf8))
    }

    /// Signs the EIP-712 digest of `typedData`.
    public func sign(typedData: EIP712.TypedData) throws -> [UInt8] {
        try sign(digest32: typedData.digest())
    }

    public var description: String { "IdentityKey(\(address))" }
}
