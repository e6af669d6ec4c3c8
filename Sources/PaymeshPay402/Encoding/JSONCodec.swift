import Foundation

/// JSON in and out of the 402 headers and body: sorted keys (deterministic bytes for vectors),
/// no escaped slashes, strict decoding behind a size check.
enum JSONCodec {
    static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        do { return Array(try encoder.encode(value)) } catch {
            preconditionFailure("encoding a 402 value cannot fail: \(error)")
        }
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], what: String) throws(Pay402Error) -> T {
        do { return try JSONDecoder().decode(T.self, from: Data(bytes)) } catch {
            throw .malformed("\(what) is not the expected JSON")
        }
    }

    /// base64(JSON): the form of every x402 header (§3).
    static func header(_ value: some Encodable) -> String { Base64.encode(encode(value)) }

    /// Decodes a base64(JSON) header after checking its length (§8).
    static func decodeHeader<T: Decodable>(_ type: T.Type, _ value: String, what: String) throws(Pay402Error) -> T {
        guard value.utf8.count <= Pay402Limits.maxProofHeaderBytes else {
            throw .malformed("\(what) is longer than \(Pay402Limits.maxProofHeaderBytes) bytes")
        }
        return try decode(T.self, from: Base64.decode(value, what: what), what: what)
    }
}
