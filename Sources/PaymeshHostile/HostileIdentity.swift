public import PaymeshCrypto
public import PaymeshNoise

/// An attacker identity: a secp256k1 identity key (its address is the peer id) and a Noise static
/// key bound to it by a signed identity proof (Specs/transport.md §4). Throwaway ones cost one
/// key generation and one signature.
public struct HostileIdentity: Sendable {
    public let key: IdentityKey
    public let local: LocalIdentity
    public var address: EthereumAddress { key.address }

    public init(key: IdentityKey = .generate(), features: [String] = ["payments/1"]) throws(HostileError) {
        self.key = key
        do { local = try LocalIdentity(identity: key, features: features) } catch {
            throw HostileError(.handshake, "cannot sign an identity proof: \(error)")
        }
    }

    /// A fresh identity nobody has seen (never banned).
    public static func throwaway() throws(HostileError) -> HostileIdentity { try HostileIdentity() }
}
