import Foundation
import Testing
@testable import PaymeshCrypto

@Suite struct BLAKE2bTests {
    struct Vector: Decodable { let inputLength: Int; let keyLength: Int; let outlen: Int; let hash: String }

    @Test func rfc7693AppendixA() throws {
        #expect(try BLAKE2b.hash(Array("abc".utf8)).hexString
            == "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
            + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923")
    }

    @Test func officialKeyedKATEmptyInput() throws {
        // blake2b-kat.txt, first keyed entry: in = "", key = 00 01 … 3f.
        let key = (0..<64).map { UInt8($0) }
        #expect(try BLAKE2b.hash([UInt8](), key: key).hexString
            == "10ebb67700b1868efb4417987acf4690ae9d972fb7a590c2f02871799aaa4786"
            + "b5e996e8f0f4eb981fc214b005f42d2ff4233499391653df7aefcbc13fc51568")
    }

    @Test func generatedVectorsWithKeysAndOutputLengths() throws {
        let vectors = try loadCryptoVectors([Vector].self, "blake2b.json")
        #expect(vectors.count > 100)
        for v in vectors {
            let key = (0..<v.keyLength).map { UInt8($0) }
            let digest = try BLAKE2b.hash(pattern(v.inputLength), key: key, outputByteCount: v.outlen)
            #expect(digest.hexString == v.hash, "in \(v.inputLength) key \(v.keyLength) out \(v.outlen)")
        }
    }

    @Test func incrementalEqualsOneShotAndCopiesAreIndependent() throws {
        let input = pattern(300)
        var hasher = try BLAKE2b(key: [1, 2, 3], outputByteCount: 32)
        hasher.update(input[0..<100])
        let fork = hasher
        hasher.update(input[100...])
        #expect(hasher.finalize() == (try BLAKE2b.hash(input, key: [1, 2, 3], outputByteCount: 32)))
        #expect(fork.finalize() == (try BLAKE2b.hash(input[0..<100], key: [1, 2, 3], outputByteCount: 32)))
    }

    @Test func rejectsBadLengths() {
        #expect(throws: CryptoError.self) { try BLAKE2b.hash([UInt8](), outputByteCount: 0) }
        #expect(throws: CryptoError.self) { try BLAKE2b.hash([UInt8](), outputByteCount: 65) }
        #expect(throws: CryptoError.invalidKeyLength(expected: 64, actual: 65)) {
            try BLAKE2b.hash([UInt8](), key: [UInt8](repeating: 7, count: 65))
        }
    }
}
