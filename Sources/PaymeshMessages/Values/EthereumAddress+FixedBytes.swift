public import PaymeshCrypto

/// Addresses on the wire (peer ids, payer and payee, the EIP-712 verifying contract) are
/// PaymeshCrypto's `EthereumAddress` itself, carried as a msgpack bin(20). Ordered bytewise, as
/// CHANNEL_ANNOUNCE requires peer_a < peer_b; `EthereumAddress.zero` stands for "no contract".
extension EthereumAddress: FixedBytes {
    /// The 20 bytes, as every FixedBytes value names them.
    public var bytes: [UInt8] { rawRepresentation }

    /// Throws MALFORMED_MESSAGE unless `bytes` is exactly 20 bytes.
    public init(_ bytes: [UInt8]) throws(MessageError) {
        guard let address = try? EthereumAddress(rawRepresentation: Self.checkedCount(bytes)) else {
            throw .malformed("\(Self.self) must be \(Self.byteCount) bytes, got \(bytes.count)")
        }
        self = address
    }
}
