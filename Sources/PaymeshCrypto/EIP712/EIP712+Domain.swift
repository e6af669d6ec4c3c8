extension EIP712 {
    /// The `EIP712Domain` struct. Absent fields are left out of its type; present ones keep
    /// the canonical order name, version, chainId, verifyingContract, salt (EIP-712 §Definition
    /// of domainSeparator).
    public struct Domain: Hashable, Sendable {
        public var name: String?
        public var version: String?
        /// uint256 in EIP-712; EIP-155 chain ids fit in 64 bits.
        public var chainId: UInt64?
        public var verifyingContract: EthereumAddress?
        /// bytes32.
        public var salt: [UInt8]?

        public init(name: String? = nil, version: String? = nil, chainId: UInt64? = nil,
                    verifyingContract: EthereumAddress? = nil, salt: [UInt8]? = nil) {
            self.name = name
            self.version = version
            self.chainId = chainId
            self.verifyingContract = verifyingContract
            self.salt = salt
        }

        /// `EIP712Domain` with the present fields only.
        public var structType: StructType {
            var fields: [StructType.Field] = []
            if name != nil { fields.append(.init("name", .string)) }
            if version != nil { fields.append(.init("version", .string)) }
            if chainId != nil { fields.append(.init("chainId", .uint256)) }
            if verifyingContract != nil { fields.append(.init("verifyingContract", .address)) }
            if salt != nil { fields.append(.init("salt", .bytes32)) }
            return StructType(name: "EIP712Domain", fields: fields)
        }

        public var values: [String: Value] {
            var values: [String: Value] = [:]
            if let name { values["name"] = .string(name) }
            if let version { values["version"] = .string(version) }
            if let chainId { values["chainId"] = .uint(UInt128(chainId)) }
            if let verifyingContract { values["verifyingContract"] = .address(verifyingContract) }
            if let salt { values["salt"] = .fixedBytes(salt) }
            return values
        }

        /// hashStruct(EIP712Domain).
        public func separator() throws -> [UInt8] {
            try structType.hashStruct(values)
        }
    }
}
