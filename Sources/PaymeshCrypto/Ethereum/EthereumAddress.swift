public import Foundation

/// A 20-byte Ethereum account address: the last 20 bytes of Keccak-256 of the uncompressed
/// public key without its 0x04 prefix (Ethereum Yellow Paper, eq. 284). Ordered by bytes.
public struct EthereumAddress: Hashable, Comparable, Sendable {
    public static let byteCount = 20
    public static let zero = EthereumAddress(validated: [UInt8](repeating: 0, count: byteCount))

    public let rawRepresentation: [UInt8]

    public init(rawRepresentation bytes: some ContiguousBytes) throws {
        let raw = bytes.withUnsafeBytes { [UInt8]($0) }
        guard raw.count == Self.byteCount else {
            throw CryptoError.invalidInput("address must be \(Self.byteCount) bytes, got \(raw.count)")
        }
        self.init(validated: raw)
    }

    /// The address of a secp256k1 public key.
    public init(publicKey: Secp256k1.PublicKey) {
        let digest = Keccak256.hash(publicKey.uncompressedRepresentation[1...])
        self.init(validated: Array(digest[(Keccak256.digestByteCount - Self.byteCount)...]))
    }

    private init(validated raw: [UInt8]) {
        precondition(raw.count == Self.byteCount)
        rawRepresentation = raw
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.rawRepresentation.lexicographicallyPrecedes(rhs.rawRepresentation)
    }

    /// The 20 bytes in one call (the synthesized version feeds them one at a time).
    public func hash(into hasher: inout Hasher) {
        rawRepresentation.withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}
