import Foundation
import Testing
@testable import PaymeshCrypto

@Suite struct Keccak256Tests {
    struct Vector: Decodable { let input: String; let hash: String }

    @Test func emptyInputIsKeccakNotSHA3() {
        #expect(Keccak256.hash([UInt8]()).hexString == "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470")
        // SHA3-256("") is a7ffc6f8…; the original Keccak padding must not produce it.
        #expect(!Keccak256.hash([UInt8]()).hexString.hasPrefix("a7ffc6f8"))
    }

    @Test func abc() {
        #expect(Keccak256.hash(Array("abc".utf8)).hexString
            == "4e03657aea45a94fc7d47ba826c8d667c0d1e6e33a64a036ec44f58fa12d6c45")
    }

    @Test func generatedVectorsAcrossTheRateBoundary() throws {
        let vectors = try loadCryptoVectors([Vector].self, "keccak256.json")
        #expect(vectors.count > 100)
        #expect(vectors.contains { $0.input.count == 2 * Keccak256.rateByteCount })
        for vector in vectors {
            let input = try hex(vector.input)
            #expect(Keccak256.hash(input).hexString == vector.hash, "length \(input.count)")
        }
    }

    @Test func incrementalFedByteByByteEqualsOneShot() throws {
        for length in [0, 1, 135, 136, 137, 200, 272, 273, 1000] {
            let input = pattern(length)
            var hasher = Keccak256()
            for byte in input { hasher.update([byte]) }
            #expect(hasher.finalize() == Keccak256.hash(input), "length \(length)")
        }
    }

    @Test func incrementalInUnevenChunksEqualsOneShot() {
        let input = pattern(1000)
        for chunk in [7, 135, 136, 137, 300] {
            var hasher = Keccak256()
            var offset = 0
            while offset < input.count {
                let end = min(offset + chunk, input.count)
                hasher.update(input[offset..<end])
                offset = end
            }
            #expect(hasher.finalize() == Keccak256.hash(input), "chunk \(chunk)")
        }
    }

    @Test func finalizeLeavesTheHasherUsable() {
        var hasher = Keccak256()
        hasher.update(Array("ab".utf8))
        let prefix = hasher.finalize()
        hasher.update(Array("c".utf8))
        #expect(prefix == Keccak256.hash(Array("ab".utf8)))
        #expect(hasher.finalize() == Keccak256.hash(Array("abc".utf8)))
    }
}
