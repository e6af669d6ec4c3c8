public import Foundation

extension EthereumAddress {
    /// The address that signed a 32-byte digest, from a 65-byte r ‖ s ‖ v signature (v ∈ {27, 28}).
    public static func recover(digest32: some ContiguousBytes, signature65: some ContiguousBytes) throws -> EthereumAddress {
        EthereumAddress(publicKey: try Secp256k1.recoverPublicKey(digest32: digest32, signature65: signature65))
    }
}
