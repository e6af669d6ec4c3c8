import Foundation
import PaymeshCrypto
import PaymeshMessages
import PaymeshMsgpack
import PaymeshTestSupport

/// A JSON value of Specs/vectors/messages.json.
enum JSONValue: Decodable, Equatable {
    case string(String)
    case uint(UInt64)
    case int(Int64)
    case bool(Bool)
    case null
    case object([String: JSONValue])
    case array([JSONValue])

    init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null }
        else if let b = try? c.decode(Bool.self) { self = .bool(b) }
        else if let u = try? c.decode(UInt64.self) { self = .uint(u) }
        else if let i = try? c.decode(Int64.self) { self = .int(i) }
        else if let s = try? c.decode(String.self) { self = .string(s) }
        else if let o = try? c.decode([String: JSONValue].self) { self = .object(o) }
        else { self = .array(try c.decode([JSONValue].self)) }
    }
}

struct MessageVectorFile: Decodable {
    struct Valid: Decodable {
        let type: UInt64
        let name: String
        let fields: [String: JSONValue]
        let frame_hex: String
    }
    struct Tolerated: Decodable {
        let description: String
        let type: UInt64
        let name: String
        let fields: [String: JSONValue]
        let frame_hex: String
        let canonical_frame_hex: String
    }
    struct Invalid: Decodable {
        let description: String
        let frame_hex: String
        let expected_error_code: UInt16
    }
    let schema_version: UInt64
    let valid: [Valid]
    let tolerated: [Tolerated]
    let invalid: [Invalid]

    static func load() throws -> MessageVectorFile {
        try TestVectors.load(MessageVectorFile.self, spec: "messages.json")
    }
}

enum VectorError: Error { case badHex(String), unsupportedJSON(String) }

/// Fields whose JSON string is hex for a msgpack bin (Specs/messages.md §4); every other JSON
/// string is a msgpack str (amounts included).
let binaryFieldNames: Set<String> = [
    "channel_id", "sender", "receiver", "verifying_contract", "signature", "counter_signature", "htlc_id",
    "payment_hash", "onion", "preimage", "failure", "peer_a", "peer_b", "signature_a", "signature_b",
    "negotiation_id",
]

/// JSON fields → msgpack `data` pairs (order irrelevant: the typed decoder looks keys up by name).
func msgpackFields(_ fields: [String: JSONValue]) throws -> [MsgpackPair] {
    try fields.sorted { $0.key < $1.key }.map { key, value in
        let v: MsgpackValue
        switch value {
        case .string(let s) where binaryFieldNames.contains(key):
            guard let b = [UInt8](hex: s) else { throw VectorError.badHex(s) }
            v = .binary(b)
        case .string(let s): v = .string(s)
        case .uint(let u): v = .uint(u)
        case .int(let i): v = .int(i)
        case .bool(let b): v = .bool(b)
        case .null: v = .nil
        case .array(let entries) where key == "acks": // [[channel_id hex, nonce], …] (messages.md §4.4.1)
            v = .array(try entries.map { entry in
                guard case .array(let pair) = entry, pair.count == 2, case .string(let id) = pair[0], case .uint(let nonce) = pair[1],
                      let bytes = [UInt8](hex: id) else { throw VectorError.unsupportedJSON(key) }
                return .array([.binary(bytes), .uint(nonce)])
            })
        case .array(let ids) where key == "locks": // [htlc_id hex, …] (messages.md §4.2, §4.5)
            v = .array(try ids.map { id in
                guard case .string(let hex) = id, let bytes = [UInt8](hex: hex) else { throw VectorError.unsupportedJSON(key) }
                return .binary(bytes)
            })
        default: throw VectorError.unsupportedJSON(key)
        }
        return MsgpackPair(.string(key), v)
    }
}

func hexBytes(_ s: String) throws -> [UInt8] {
    guard let b = [UInt8](hex: s) else { throw VectorError.badHex(s) }
    return b
}

/// Runs a whole frame through the stream codec: the message, or the error it answers with.
func decodeFrame(_ bytes: [UInt8]) -> Result<Message, MessageError> {
    var codec = PaymentStreamCodec()
    codec.feed(bytes)
    do throws(MessageError) {
        guard let m = try codec.nextMessage() else {
            return .failure(MessageError(code: .internalError, detail: "incomplete frame"))
        }
        return .success(m)
    } catch {
        return .failure(error)
    }
}
