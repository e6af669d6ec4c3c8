import Foundation
import Testing
import PaymeshTestSupport

/// Test input used by the generated vectors: byte i is i mod 251.
func pattern(_ count: Int) -> [UInt8] { (0..<count).map { UInt8($0 % 251) } }

func hex(_ string: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
    try #require([UInt8](hex: string), "bad hex in test data: \(string)", sourceLocation: sourceLocation)
}

func loadCryptoVectors<T: Decodable>(_ type: T.Type, _ name: String) throws -> T {
    try TestVectors.load(type, test: "crypto/" + name)
}
