extension EIP712 {
    /// A struct type: its name and its members in declaration order.
    public struct StructType: Hashable, Sendable {
        public struct Field: Hashable, Sendable {
            public let name: String
            public let type: FieldType

            public init(_ name: String, _ type: FieldType) {
                self.name = name
                self.type = type
            }
        }

        public let name: String
        public let fields: [Field]

        public init(name: String, fields: [Field]) {
            self.name = name
            self.fields = fields
        }
    }
}
