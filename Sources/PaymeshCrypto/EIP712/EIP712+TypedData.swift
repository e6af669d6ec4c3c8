extension EIP712 {
    /// A message ready to sign: domain, primary type and the message's member values.
    public struct TypedData: Hashable, Sendable {
        public let domain: Domain
        public let primaryType: StructType
        public let message: [String: Value]

        public init(domain: Domain, primaryType: StructType, message: [String: Value]) {
            self.domain = domain
            self.primaryType = primaryType
            self.message = message
        }

        /// keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(message)).
        public func digest() throws -> [UInt8] {
            try EIP712.digest(domainSeparator: domain.separator(), messageHash: primaryType.hashStruct(message))
        }
    }
}
