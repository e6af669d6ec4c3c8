public import PaymeshCrypto
import PaymeshMsgpack

/// The payload of handshake messages 2 and 3 (Specs/transport.md §4): binds the sender's
/// long-term secp256k1 identity (its Ethereum address) to its Noise static key by an EIP-191
/// personal_sign of `paymesh-noise-static-key:` ‖ lowercase hex of the static key.
public struct IdentityProof: Hashable, Sendable {
    /// transport.md §4: the only proof version of paymesh/1.
    public static let version: UInt64 = 1
    /// transport.md §6: an encoded proof is at most 1024 bytes.
    public static let maxEncodedLength = 1024
    /// transport.md §4: at most 32 features of at most 64 bytes each.
    public static let maxFeatures = 32
    public static let maxFeatureLength = 64
    public static let signedTextPrefix = "paymesh-noise-static-key:"

    public let address: EthereumAddress
    /// r ‖ s ‖ v, v ∈ {27, 28}.
    public let signature: [UInt8]
    public let features: [String]

    /// The text the identity key signs for `noiseStatic` (89 bytes).
    public static func signedText(for noiseStatic: X25519.PublicKey) -> String {
        signedTextPrefix + noiseStatic.rawRepresentation.hexString
    }

    /// Signs a proof for our own static key.
    public static func make(identity: IdentityKey, noiseStatic: X25519.PublicKey, features: [String]) throws -> IdentityProof {
        try validate(features: features)
        let signature = try identity.personalSign(message: signedText(for: noiseStatic))
        return IdentityProof(address: identity.address, signature: signature, features: features)
    }

    private init(address: EthereumAddress, signature: [UInt8], features: [String]) {
        self.address = address
        self.signature = signature
        self.features = features
    }

    /// The canonical encoding: a msgpack map with keys in the order v, addr, sig, features.
    public func encoded() throws -> [UInt8] {
        let value = MsgpackValue.map([
            MsgpackPair(.string("v"), .uint(Self.version)),
            MsgpackPair(.string("addr"), .binary(address.rawRepresentation)),
            MsgpackPair(.string("sig"), .binary(signature)),
            MsgpackPair(.string("features"), .array(features.map { .string($0) })),
        ])
        do { return try MsgpackEncoder.encode(value) } catch { throw NoiseError.invalidIdentityProof("encoding failed: \(error)") }
    }

    /// Strict decoding: every key present with its type; unknown keys ignored; any order; no key twice.
    public init(decoding bytes: [UInt8]) throws(NoiseError) {
        guard bytes.count <= Self.maxEncodedLength else {
            throw .invalidIdentityProof("\(bytes.count) bytes exceeds \(Self.maxEncodedLength)")
        }
        let value: MsgpackValue
        do { value = try MsgpackDecoder.decode(bytes) } catch { throw .invalidIdentityProof("not msgpack: \(error)") }
        guard let pairs = value.mapValue else { throw .invalidIdentityProof("not a map") }
        var version: UInt64?, addr: [UInt8]?, sig: [UInt8]?, features: [String]?
        var seen = Set<String>()
        for pair in pairs {
            guard let key = pair.key.stringValue else { throw .invalidIdentityProof("non-string key") }
            // §4.1: a key that appears twice (known or not) rejects the proof.
            guard seen.insert(key).inserted else { throw .invalidIdentityProof("key \(key) appears twice") }
            switch key {
            case "v": version = pair.value.uint64Value
                if version == nil { throw .invalidIdentityProof("v is not a uint") }
            case "addr": addr = pair.value.binaryValue
                if addr == nil { throw .invalidIdentityProof("addr is not bin") }
            case "sig": sig = pair.value.binaryValue
                if sig == nil { throw .invalidIdentityProof("sig is not bin") }
            case "features":
                guard let items = pair.value.arrayValue else { throw .invalidIdentityProof("features is not an array") }
                var out: [String] = []
                for item in items {
                    guard let s = item.stringValue else { throw .invalidIdentityProof("feature is not a str") }
                    out.append(s)
                }
                features = out
            default: continue
            }
        }
        guard let version, let addr, let sig, let features else { throw .invalidIdentityProof("missing key") }
        guard version == Self.version else { throw .invalidIdentityProof("unsupported version \(version)") }
        guard sig.count == 65 else { throw .invalidIdentityProof("sig is \(sig.count) bytes, not 65") }
        guard let address = try? EthereumAddress(rawRepresentation: addr) else {
            throw .invalidIdentityProof("addr is \(addr.count) bytes, not 20")
        }
        do { try Self.validate(features: features) } catch { throw .invalidIdentityProof("\(error)") }
        self.init(address: address, signature: sig, features: features)
    }

    /// Recovers the signer of the proof over `noiseStatic`; throws unless it equals `address`.
    public func verify(noiseStatic: X25519.PublicKey) throws(NoiseError) {
        let signer: EthereumAddress
        do {
            signer = try EIP191.recoverPersonalSigner(message: Array(Self.signedText(for: noiseStatic).utf8), signature: signature)
        } catch {
            throw .invalidIdentityProof("signature does not recover: \(error)")
        }
        guard signer == address else {
            throw .invalidIdentityProof("signed by \(signer), claims \(address)")
        }
    }

    private static func validate(features: [String]) throws(NoiseError) {
        guard features.count <= maxFeatures else { throw .invalidIdentityProof("\(features.count) features > \(maxFeatures)") }
        for f in features where f.utf8.count > maxFeatureLength || f.isEmpty {
            throw .invalidIdentityProof("feature of \(f.utf8.count) bytes (1…\(maxFeatureLength))")
        }
    }
}
