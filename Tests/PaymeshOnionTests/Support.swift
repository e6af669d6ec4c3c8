import Foundation
import PaymeshCrypto
import PaymeshTestSupport
import Testing

func hex(_ string: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
    try #require([UInt8](hex: string), "bad hex in test data: \(string)", sourceLocation: sourceLocation)
}

func privateKey(_ hexString: String) throws -> Secp256k1.PrivateKey {
    try Secp256k1.PrivateKey(ephemeralRawRepresentation: hex(hexString))
}

func publicKey(_ hexString: String) throws -> Secp256k1.PublicKey {
    try Secp256k1.PublicKey(serialized: hex(hexString))
}

/// Strips a BOLT 1 BigSize length prefix (the BOLT 4 vectors give payloads with it).
func withoutLengthPrefix(_ bytes: [UInt8]) throws -> [UInt8] {
    let first = try #require(bytes.first)
    let width = first < 0xfd ? 0 : first == 0xfd ? 2 : first == 0xfe ? 4 : 8
    let length = bytes[1..<(1 + width)].reduce(width == 0 ? Int(first) : 0) { $0 << 8 | Int($1) }
    #expect(bytes.count == 1 + width + length, "prefix matches the payload")
    return Array(bytes[(1 + width)...])
}
