public import PaymeshCrypto

/// A macaroon as libmacaroons defines it (Birgisson et al. 2014; libmacaroons, pymacaroons): an
/// identifier, caveats, and an HMAC-SHA256 chain (Specs/http402.md §6.2):
///
///     sig₀ = HMAC(key: HMAC(key: "macaroons-key-generator", msg: rootKey), msg: identifier)
///     sigᵢ = HMAC(key: sigᵢ₋₁, msg: caveatIdᵢ)            (first-party caveats)
///
/// Only first-party caveats are minted and verified here; a third-party caveat (one with a
/// verification id) is parsed and then refused by `verifySignature`.
public struct Macaroon: Sendable, Hashable {
    public struct Caveat: Sendable, Hashable {
        public var location: String?
        /// The predicate of a first-party caveat ("services=search:0").
        public var identifier: [UInt8]
        /// Present only on third-party caveats.
        public var verificationID: [UInt8]?

        public init(location: String? = nil, identifier: [UInt8], verificationID: [UInt8]? = nil) {
            self.location = location
            self.identifier = identifier
            self.verificationID = verificationID
        }

        /// The predicate as text, when it is UTF-8.
        public var predicate: String? { String(validating: identifier, as: UTF8.self) }
    }

    public var location: String?
    public var identifier: [UInt8]
    public private(set) var caveats: [Caveat]
    /// The chain's last HMAC (32 bytes).
    public private(set) var signature: [UInt8]

    /// HMAC key libmacaroons derives the chain's first key with (`generate_derived_key`).
    static let keyGenerator = Array("macaroons-key-generator".utf8)

    /// A new macaroon with no caveats, under `rootKey`.
    public init(rootKey: [UInt8], identifier: [UInt8], location: String? = nil) {
        self.location = location
        self.identifier = identifier
        caveats = []
        signature = HMACSHA256.authenticationCode(for: identifier, key: Self.derivedKey(rootKey))
    }

    /// A macaroon as received (its signature unchecked).
    init(location: String?, identifier: [UInt8], caveats: [Caveat], signature: [UInt8]) {
        self.location = location
        self.identifier = identifier
        self.caveats = caveats
        self.signature = signature
    }

    /// Adds a first-party caveat and moves the chain: sig = HMAC(key: sig, msg: predicate).
    public mutating func addFirstPartyCaveat(_ predicate: String) {
        let bytes = Array(predicate.utf8)
        precondition(caveats.count < Pay402Limits.maxCaveats, "too many caveats")
        precondition(bytes.count <= Pay402Limits.maxMacaroonFieldBytes, "caveat too long")
        caveats.append(Caveat(identifier: bytes))
        signature = HMACSHA256.authenticationCode(for: bytes, key: signature)
    }

    /// Recomputes the chain under `rootKey` and compares it with `signature` in constant time.
    /// Throws 1303 when it differs or a caveat is third-party (no discharge macaroons here).
    public func verifySignature(rootKey: [UInt8]) throws(Pay402Error) {
        var sig = HMACSHA256.authenticationCode(for: identifier, key: Self.derivedKey(rootKey))
        for caveat in caveats {
            guard caveat.verificationID == nil else { throw .invalidProof("third-party caveats are not accepted") }
            sig = HMACSHA256.authenticationCode(for: caveat.identifier, key: sig)
        }
        guard ConstantTime.equals(sig, signature) else { throw .invalidProof("the macaroon's signature does not verify") }
    }

    static func derivedKey(_ rootKey: [UInt8]) -> [UInt8] {
        HMACSHA256.authenticationCode(for: rootKey, key: keyGenerator)
    }
}
