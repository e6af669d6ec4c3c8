import Foundation
import Testing
@testable import PaymeshCrypto

@Suite struct EIP712Tests {
    typealias T = EIP712.StructType
    static let person = T(name: "Person", fields: [.init("name", .string), .init("wallet", .address)])
    static let mail = T(name: "Mail", fields: [.init("from", .struct(person)), .init("to", .struct(person)),
                                               .init("contents", .string)])

    static func mailExample() throws -> EIP712.TypedData {
        let domain = EIP712.Domain(name: "Ether Mail", version: "1", chainId: 1,
                                   verifyingContract: try EthereumAddress.parse("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"))
        let message: [String: EIP712.Value] = [
            "from": .struct(["name": .string("Cow"), "wallet": .address(try .parse("0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"))]),
            "to": .struct(["name": .string("Bob"), "wallet": .address(try .parse("0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"))]),
            "contents": .string("Hello, Bob!"),
        ]
        return EIP712.TypedData(domain: domain, primaryType: mail, message: message)
    }

    /// The example in EIP-712 (assets/eip-712/Example.js).
    @Test func specificationMailExample() throws {
        let typed = try Self.mailExample()
        #expect(try Self.mail.encodeType() == "Mail(Person from,Person to,string contents)Person(string name,address wallet)")
        #expect(try Self.mail.typeHash().hexString == "a0cedeb2dc280ba39b857546d74f5549c3a1d7bdc2dd96bf881f76108e23dac2")
        #expect(try typed.domain.separator().hexString == "f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f")
        #expect(try Self.mail.hashStruct(typed.message).hexString == "c52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e")
        #expect(try typed.digest().hexString == "be609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2")

        let cow = IdentityKey(privateKey: try Secp256k1.PrivateKey(rawRepresentation: Keccak256.hash(Array("cow".utf8))))
        #expect(cow.address.description == "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826")
        let signature = try cow.sign(typedData: typed)
        #expect(signature.hexString == "4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d"
            + "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562" + "1c")
        #expect(try EthereumAddress.recover(digest32: typed.digest(), signature65: signature) == cow.address)
    }

    @Test func encodeTypeListsReferencedTypesOnceSortedByName() throws {
        let zeta = T(name: "Zeta", fields: [.init("x", .bool)])
        let alpha = T(name: "Alpha", fields: [.init("z", .struct(zeta)), .init("n", .uint(bits: 64))])
        let top = T(name: "Top", fields: [.init("z", .struct(zeta)), .init("a", .struct(alpha)), .init("b", .bytes32)])
        #expect(try top.encodeType() == "Top(Zeta z,Alpha a,bytes32 b)Alpha(Zeta z,uint64 n)Zeta(bool x)")
    }

    @Test func conflictingDefinitionsAndBadTypesThrow() {
        let p2 = T(name: "Person", fields: [.init("name", .string)])
        let both = T(name: "Pair", fields: [.init("a", .struct(Self.person)), .init("b", .struct(p2))])
        #expect(throws: CryptoError.self) { try both.encodeType() }
        for bad in [EIP712.FieldType.uint(bits: 0), .uint(bits: 7), .uint(bits: 264), .fixedBytes(0), .fixedBytes(33)] {
            #expect(throws: CryptoError.self) { try T(name: "X", fields: [.init("v", bad)]).typeHash() }
        }
    }

    @Test func valuesAreCheckedAgainstTheirTypes() throws {
        let t = T(name: "V", fields: [.init("n", .uint(bits: 64)), .init("h", .bytes32)])
        let h = EIP712.Value.fixedBytes([UInt8](repeating: 1, count: 32))
        #expect(throws: Never.self) { try t.hashStruct(["n": .uint(UInt128(UInt64.max)), "h": h]) }
        #expect(throws: CryptoError.self) { try t.hashStruct(["n": .uint(UInt128(UInt64.max) + 1), "h": h]) }
        #expect(throws: CryptoError.self) { try t.hashStruct(["n": .uint(1), "h": .fixedBytes([1])]) }
        #expect(throws: CryptoError.self) { try t.hashStruct(["n": .uint(1)]) }
        #expect(throws: CryptoError.self) { try t.hashStruct(["n": .uint(1), "h": h, "extra": .bool(true)]) }
        #expect(throws: CryptoError.self) { try t.hashStruct(["n": .string("1"), "h": h]) }
        #expect(throws: CryptoError.self) { try t.hashStruct(["n": .uint(bigEndian: [UInt8](repeating: 1, count: 33)), "h": h]) }
        // Leading zeros do not count against the width.
        #expect(try t.hashStruct(["n": .uint(bigEndian: [UInt8](repeating: 0, count: 40) + [5]), "h": h])
            == (try t.hashStruct(["n": .uint(5), "h": h])))
    }

    @Test func domainWithSomeFieldsOnly() throws {
        let domain = EIP712.Domain(name: "Paymesh", chainId: 10)
        #expect(try domain.structType.encodeType() == "EIP712Domain(string name,uint256 chainId)")
        let salted = EIP712.Domain(name: "A", version: "1", chainId: 1, verifyingContract: .zero, salt: [UInt8](repeating: 9, count: 32))
        #expect(try salted.structType.encodeType()
            == "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract,bytes32 salt)")
        #expect(throws: CryptoError.self) { try EIP712.Domain(salt: [1, 2]).separator() }
    }

    @Test func generatedVectorsFromEthAccount() throws {
        let data = try PaymeshTestSupportBridge.vectorData("eip712.json")
        let vectors = try #require(JSONSerialization.jsonObject(with: data) as? [[String: Any]])
        #expect(vectors.count == 4)
        for v in vectors {
            let parsed = try TypedDataJSON(v)
            #expect(try parsed.typed.domain.separator().hexString == parsed.string("domainSeparator"))
            #expect(try parsed.typed.primaryType.hashStruct(parsed.typed.message).hexString == parsed.string("hashStruct"))
            #expect(try parsed.typed.digest().hexString == parsed.string("digest"))
            let identity = IdentityKey(privateKey: try Secp256k1.PrivateKey(rawRepresentation: hex(parsed.string("privateKey"))))
            #expect(try identity.sign(typedData: parsed.typed).hexString == parsed.string("signature"))
        }
    }
}
