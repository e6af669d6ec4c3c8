import Foundation
import Testing
import PaymeshTestSupport
@testable import PaymeshCrypto

enum PaymeshTestSupportBridge {
    static func vectorData(_ name: String) throws -> Data { try TestVectors.testVector("crypto/" + name) }
}

struct VectorFormatError: Error { let what: String }

/// Reads one eth-account typed-data vector (types as JSON, uints as decimal strings).
struct TypedDataJSON {
    let raw: [String: Any]
    let typed: EIP712.TypedData

    init(_ raw: [String: Any]) throws {
        self.raw = raw
        guard let typesJSON = raw["types"] as? [String: [[String: String]]],
              let primary = raw["primaryType"] as? String,
              let domainJSON = raw["domain"] as? [String: Any],
              let messageJSON = raw["message"] as? [String: Any] else { throw VectorFormatError(what: "top level") }
        let primaryType = try Self.structType(primary, typesJSON)
        let domain = EIP712.Domain(
            name: domainJSON["name"] as? String, version: domainJSON["version"] as? String,
            chainId: (domainJSON["chainId"] as? NSNumber)?.uint64Value,
            verifyingContract: try (domainJSON["verifyingContract"] as? String).map { try EthereumAddress.parse($0) })
        guard case .struct(let message) = try Self.value(messageJSON, .struct(primaryType)) else {
            throw VectorFormatError(what: "message")
        }
        typed = EIP712.TypedData(domain: domain, primaryType: primaryType, message: message)
    }

    func string(_ key: String) throws -> String {
        guard let s = raw[key] as? String else { throw VectorFormatError(what: key) }
        return s
    }

    static func structType(_ name: String, _ types: [String: [[String: String]]]) throws -> EIP712.StructType {
        guard let fields = types[name] else { throw VectorFormatError(what: "type \(name)") }
        return EIP712.StructType(name: name, fields: try fields.map { f in
            guard let n = f["name"], let t = f["type"] else { throw VectorFormatError(what: "field in \(name)") }
            return .init(n, try fieldType(t, types))
        })
    }

    static func fieldType(_ name: String, _ types: [String: [[String: String]]]) throws -> EIP712.FieldType {
        switch name {
        case "address": return .address
        case "bool": return .bool
        case "string": return .string
        case "bytes": return .bytes
        case _ where name.hasPrefix("uint"): return .uint(bits: Int(name.dropFirst(4)) ?? -1)
        case _ where name.hasPrefix("bytes"): return .fixedBytes(Int(name.dropFirst(5)) ?? -1)
        default: return .struct(try structType(name, types))
        }
    }

    static func value(_ json: Any, _ type: EIP712.FieldType) throws -> EIP712.Value {
        switch (type, json) {
        case (.address, let s as String): return .address(try EthereumAddress.parse(s))
        case (.bool, let b as Bool): return .bool(b)
        case (.string, let s as String): return .string(s)
        case (.bytes, let s as String): return .bytes(try hex(s))
        case (.fixedBytes, let s as String): return .fixedBytes(try hex(s))
        case (.uint, let s as String): return .uint(bigEndian: try decimalToBigEndian(s))
        case (.struct(let t), let object as [String: Any]):
            var values: [String: EIP712.Value] = [:]
            for field in t.fields {
                guard let member = object[field.name] else { throw VectorFormatError(what: "member \(field.name)") }
                values[field.name] = try value(member, field.type)
            }
            return .struct(values)
        default: throw VectorFormatError(what: "value for \(type.solidityName)")
        }
    }

    /// Decimal digits → 32-byte big-endian integer (values up to 2^256 − 1).
    static func decimalToBigEndian(_ digits: String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        for c in digits.utf8 {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c) else { throw VectorFormatError(what: digits) }
            var carry = Int(c - UInt8(ascii: "0"))
            for i in (0..<32).reversed() {
                let x = Int(out[i]) * 10 + carry
                out[i] = UInt8(x & 0xff)
                carry = x >> 8
            }
            guard carry == 0 else { throw VectorFormatError(what: "overflow \(digits)") }
        }
        return out
    }
}
