/// The L402 macaroon identifier, version 0 (Specs/http402.md §6.1; lightninglabs/aperture):
/// uint16 big-endian version (0) ‖ payment hash (32) ‖ token id (32) = 66 bytes.
public struct L402Identifier: Sendable, Hashable {
    public static let version: UInt16 = 0
    public static let byteCount = 66

    /// SHA-256 of the invoice's preimage.
    public var paymentHash: [UInt8]
    /// 32 random bytes naming the token (from the node's `NodeRandom`).
    public var tokenID: [UInt8]

    public init(paymentHash: [UInt8], tokenID: [UInt8]) {
        precondition(paymentHash.count == 32 && tokenID.count == 32, "payment hash and token id are 32 bytes")
        self.paymentHash = paymentHash
        self.tokenID = tokenID
    }

    public init(bytes: [UInt8]) throws(Pay402Error) {
        guard bytes.count == Self.byteCount else { throw .malformed("L402 identifier must be \(Self.byteCount) bytes") }
        guard bytes[0] == 0, bytes[1] == 0 else { throw .malformed("L402 identifier version is not 0") }
        paymentHash = Array(bytes[2..<34])
        tokenID = Array(bytes[34..<66])
    }

    public var bytes: [UInt8] { [0, 0] + paymentHash + tokenID }
}
