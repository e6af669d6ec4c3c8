/// EIP-712 typed structured data hashing: a `StructType` model of Solidity structs, `Value`s
/// for their fields, the `Domain` separator and the final signing digest
/// keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(message)).
///
/// Supported member types: address, bool, string, bytes, uint8…uint256, bytes1…bytes32 and
/// nested structs. Signed intN and arrays are not supported (Paymesh does not use them).
public enum EIP712 {
    /// EIP-191 version 0x01 ("structured data"): the two bytes before the domain separator.
    public static let digestPrefix: [UInt8] = [0x19, 0x01]
    /// Every encoded member is one 32-byte word.
    public static let wordByteCount = 32

    /// keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ messageHash), both inputs 32 bytes.
    public static func digest(domainSeparator: [UInt8], messageHash: [UInt8]) throws -> [UInt8] {
        guard domainSeparator.count == wordByteCount, messageHash.count == wordByteCount else {
            throw CryptoError.invalidInput("EIP-712 domain separator and message hash must be 32 bytes each")
        }
        var hasher = Keccak256()
        hasher.update(digestPrefix)
        hasher.update(domainSeparator)
        hasher.update(messageHash)
        return hasher.finalize()
    }
}
