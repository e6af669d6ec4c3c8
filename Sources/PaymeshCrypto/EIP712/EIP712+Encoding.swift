extension EIP712.StructType {
    /// `encodeType`: "Name(type1 name1,type2 name2,…)" followed by the same for every struct
    /// type it references, directly or not, sorted by name and each listed once (EIP-712
    /// §Definition of encodeType). Two different definitions under one name are an error.
    public func encodeType() throws -> String {
        var referenced: [String: EIP712.StructType] = [:]
        try collectReferencedTypes(into: &referenced)
        referenced[name] = nil
        let rest = referenced.keys.sorted().map { referenced[$0]!.encodeSingleType() }
        return ([encodeSingleType()] + rest).joined()
    }

    /// keccak256(encodeType).
    public func typeHash() throws -> [UInt8] {
        Keccak256.hash(Array(try encodeType().utf8))
    }

    /// `encodeData`: typeHash ‖ enc(value₁) ‖ … ‖ enc(valueₙ), one 32-byte word per member in
    /// declaration order. `values` must name exactly this type's members.
    public func encodeData(_ values: [String: EIP712.Value]) throws -> [UInt8] {
        guard values.count == fields.count else {
            throw CryptoError.invalidInput("EIP-712 \(name): \(values.count) values for \(fields.count) members")
        }
        var out = try typeHash()
        out.reserveCapacity(EIP712.wordByteCount * (fields.count + 1))
        for field in fields {
            guard let value = values[field.name] else {
                throw CryptoError.invalidInput("EIP-712 \(name): no value for member \(field.name)")
            }
            out += try Self.encodeValue(value, as: field.type, member: field.name)
        }
        return out
    }

    /// `hashStruct`: keccak256(encodeData).
    public func hashStruct(_ values: [String: EIP712.Value]) throws -> [UInt8] {
        Keccak256.hash(try encodeData(values))
    }

    private func encodeSingleType() -> String {
        name + "(" + fields.map { "\($0.type.solidityName) \($0.name)" }.joined(separator: ",") + ")"
    }

    private func collectReferencedTypes(into found: inout [String: EIP712.StructType]) throws {
        if let known = found[name] {
            guard known == self else { throw CryptoError.invalidInput("EIP-712: two different types named \(name)") }
            return
        }
        found[name] = self
        for field in fields {
            try field.type.validate()
            if case .struct(let member) = field.type { try member.collectReferencedTypes(into: &found) }
        }
    }

    /// One 32-byte word for an atomic value; keccak256 of the contents for string and bytes;
    /// hashStruct for a nested struct (EIP-712 §Definition of encodeData).
    private static func encodeValue(_ value: EIP712.Value, as type: EIP712.FieldType, member: String) throws -> [UInt8] {
        let word = EIP712.wordByteCount
        switch (type, value) {
        case (.address, .address(let address)):
            return [UInt8](repeating: 0, count: word - EthereumAddress.byteCount) + address.rawRepresentation
        case (.bool, .bool(let flag)):
            return [UInt8](repeating: 0, count: word - 1) + [flag ? 1 : 0]
        case (.string, .string(let text)):
            return Keccak256.hash(Array(text.utf8))
        case (.bytes, .bytes(let bytes)):
            return Keccak256.hash(bytes)
        case (.uint(let bits), .uint(let bigEndian)):
            let magnitude = bigEndian.drop { $0 == 0 }
            guard magnitude.count <= bits / 8 else {
                throw CryptoError.invalidInput("EIP-712 member \(member): value does not fit in uint\(bits)")
            }
            return [UInt8](repeating: 0, count: word - magnitude.count) + magnitude
        case (.fixedBytes(let n), .fixedBytes(let bytes)):
            guard bytes.count == n else {
                throw CryptoError.invalidInput("EIP-712 member \(member): bytes\(n) needs \(n) bytes, got \(bytes.count)")
            }
            return bytes + [UInt8](repeating: 0, count: word - n)
        case (.struct(let nested), .struct(let values)):
            return try nested.hashStruct(values)
        default:
            throw CryptoError.invalidInput("EIP-712 member \(member): value does not match type \(type.solidityName)")
        }
    }
}
