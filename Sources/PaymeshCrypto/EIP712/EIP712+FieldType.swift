extension EIP712 {
    /// The Solidity type of a struct member.
    public indirect enum FieldType: Hashable, Sendable {
        case address
        case bool
        case string
        /// Dynamic `bytes`.
        case bytes
        /// `uintN`, N a multiple of 8 in 8…256.
        case uint(bits: Int)
        /// `bytesN`, N in 1…32.
        case fixedBytes(Int)
        case `struct`(StructType)

        public static let uint256 = FieldType.uint(bits: 256)
        public static let bytes32 = FieldType.fixedBytes(32)

        /// The type's name as it appears in `encodeType` ("uint256", "bytes32", "Person", …).
        public var solidityName: String {
            switch self {
            case .address: return "address"
            case .bool: return "bool"
            case .string: return "string"
            case .bytes: return "bytes"
            case .uint(let bits): return "uint\(bits)"
            case .fixedBytes(let n): return "bytes\(n)"
            case .struct(let type): return type.name
            }
        }

        func validate() throws {
            switch self {
            case .uint(let bits) where !(8...256).contains(bits) || bits % 8 != 0:
                throw CryptoError.invalidInput("EIP-712: uint\(bits) is not a Solidity type")
            case .fixedBytes(let n) where !(1...32).contains(n):
                throw CryptoError.invalidInput("EIP-712: bytes\(n) is not a Solidity type")
            default:
                return
            }
        }
    }
}
