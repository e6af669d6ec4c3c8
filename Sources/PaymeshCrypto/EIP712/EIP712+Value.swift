extension EIP712 {
    /// The value of one struct member. Integers are never floating point: `uint` carries the
    /// big-endian bytes of any value up to 2^256 − 1.
    public indirect enum Value: Hashable, Sendable {
        case address(EthereumAddress)
        /// Big-endian magnitude, at most 32 bytes once leading zeros are dropped.
        case uint(bigEndian: [UInt8])
        case bool(Bool)
        /// Exactly N bytes for a `bytesN` member.
        case fixedBytes([UInt8])
        case bytes([UInt8])
        case string(String)
        /// Member name → value; must name exactly the struct type's members.
        case `struct`([String: Value])

        /// Any unsigned integer up to 128 bits (`.uint(UInt128(x))` for narrower types).
        public static func uint(_ value: UInt128) -> Value {
            .uint(bigEndian: (0..<16).reversed().map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) })
        }
    }
}
