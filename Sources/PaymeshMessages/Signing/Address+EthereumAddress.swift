public import PaymeshCrypto

extension Address {
    /// The wire address of a key's Ethereum address (both are the same 20 bytes).
    public init(_ address: EthereumAddress) {
        do { try self.init(address.rawRepresentation) } catch {
            preconditionFailure("EthereumAddress is always \(Address.byteCount) bytes")
        }
    }

    /// The same 20 bytes as PaymeshCrypto's address type.
    public var ethereumAddress: EthereumAddress {
        do { return try EthereumAddress(rawRepresentation: bytes) } catch {
            preconditionFailure("Address is always \(EthereumAddress.byteCount) bytes")
        }
    }

    /// True when `address` names these 20 bytes.
    public func matches(_ address: EthereumAddress) -> Bool { bytes == address.rawRepresentation }
}
