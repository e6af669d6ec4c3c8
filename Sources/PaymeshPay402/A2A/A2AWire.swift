/// JSON shapes of the A2A endpoint (A2A protocol 0.3 JSON-RPC binding, the a2a-x402 extension v0.2;
/// Specs/a2a.md). Decoding reads only what the endpoint uses and ignores other keys.

// MARK: Requests

/// A JSON-RPC id: a string, a number or null (JSON-RPC 2.0 §4).
enum JSONRPCID: Codable, Sendable, Hashable {
    case string(String)
    case number(Int64)
    case null

    init(from decoder: any Decoder) throws {
        let c = try decoder.singleValueContainer()
        if c.decodeNil() { self = .null } else if let n = try? c.decode(Int64.self) { self = .number(n) } else {
            self = .string(try c.decode(String.self))
        }
    }

    func encode(to encoder: any Encoder) throws {
        var c = encoder.singleValueContainer()
        switch self {
        case .string(let s): try c.encode(s)
        case .number(let n): try c.encode(n)
        case .null: try c.encodeNil()
        }
    }
}

/// The envelope, decoded before the params (so that a bad params still answers with the id).
struct JSONRPCHeadWire: Decodable {
    var jsonrpc: String?
    var id: JSONRPCID?
    var method: String?
}

struct SendParamsWire: Decodable { var params: MessageSendParamsWire }
struct MessageSendParamsWire: Decodable { var message: MessageWire }
struct GetParamsWire: Decodable { var params: TaskQueryWire }
struct TaskQueryWire: Decodable { var id: String }

struct MessageWire: Decodable {
    var role: String
    var parts: [PartWire]
    var messageId: String
    var taskId: String?
    var contextId: String?
    var metadata: MessageMetadataWire?
}

/// A part; only text parts carry the skill's input (others are ignored).
struct PartWire: Decodable {
    var kind: String
    var text: String?
}

/// The message metadata keys this endpoint reads.
struct MessageMetadataWire: Decodable {
    var status: String?
    var payload: A2APaymentPayloadWire?
    var skill: String?

    enum CodingKeys: String, CodingKey {
        case status = "x402.payment.status"
        case payload = "x402.payment.payload"
        case skill = "paymesh.skill"
    }
}

/// `x402.payment.payload`: an x402 v1 PaymentPayload (the JSON of an `X-PAYMENT` value), read
/// loosely so that another scheme is refused with its reason rather than as malformed JSON.
struct A2APaymentPayloadWire: Decodable {
    var x402Version: Int?
    var scheme: String?
    var network: String?
    var payload: ChannelPayloadWire?

    enum CodingKeys: String, CodingKey { case x402Version, scheme, network, payload }

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        x402Version = try? c.decode(Int.self, forKey: .x402Version)
        scheme = try? c.decode(String.self, forKey: .scheme)
        network = try? c.decode(String.self, forKey: .network)
        payload = try? c.decode(ChannelPayloadWire.self, forKey: .payload)
    }

    /// The proof, checked as `X-PAYMENT` is (Specs/http402.md §4.3 step 1): version 1, the channel
    /// scheme (1321), then the payload's fields (1320).
    func proof() throws(Pay402Error) -> ChannelSchemeProof {
        guard x402Version == 1 else { throw .schemeMismatch("x402.payment.payload must be an x402Version 1 PaymentPayload") }
        guard scheme == ChannelScheme.name else { throw .schemeMismatch("scheme is not \(ChannelScheme.name)") }
        guard let network, let payload else { throw .malformed("x402.payment.payload is not a \(ChannelScheme.name) PaymentPayload") }
        return ChannelSchemeProof(x402Version: 1, network: network, accepted: nil, voucher: try payload.voucher())
    }
}

// MARK: Answers

struct JSONRPCResultWire<Result: Encodable>: Encodable {
    var jsonrpc = "2.0"
    var id: JSONRPCID
    var result: Result
}

struct JSONRPCErrorWire: Encodable {
    struct Body: Encodable {
        var code: Int
        var message: String
        var data: ErrorData?
    }
    struct ErrorData: Encodable {
        var paymeshCode: Int
        var name: String
    }
    var jsonrpc = "2.0"
    var id: JSONRPCID
    var error: Body
}

struct TaskWire: Encodable {
    var id: String
    var contextId: String
    var kind = "task"
    var status: StatusWire
    var artifacts: [ArtifactWire]?
}

struct StatusWire: Encodable {
    var state: String
    var message: AgentMessageWire
}

struct AgentMessageWire: Encodable {
    var kind = "message"
    var role = "agent"
    var messageId: String
    var taskId: String
    var contextId: String
    var parts: [TextPartWire]
    var metadata: PaymentMetadataWire
}

struct TextPartWire: Encodable {
    var kind = "text"
    var text: String
}

struct ArtifactWire: Encodable {
    var artifactId: String
    var name: String
    var parts: [TextPartWire]
}

/// The x402 metadata of an agent message (extension §7).
struct PaymentMetadataWire: Encodable {
    var status: String
    var required: PaymentRequiredWire?
    var receipts: [ReceiptEntry]?
    var error: String?
    var paymeshCode: String?

    enum CodingKeys: String, CodingKey {
        case status = "x402.payment.status"
        case required = "x402.payment.required"
        case receipts = "x402.payment.receipts"
        case error = "x402.payment.error"
        case paymeshCode = "paymesh.error.code"
    }
}

/// `x402PaymentRequiredResponse` (x402 v1): what the task must be paid with.
struct PaymentRequiredWire: Encodable {
    var x402Version = 1
    var accepts: [RequirementsV1Wire]
    var error: String
}

/// One `x402.payment.receipts` entry: x402's SettleResponse, as in the gateway's receipt header
/// (Specs/http402.md §4.4), or a failed one.
enum ReceiptEntry: Encodable {
    case settled(SettleResponse)
    case failed(reason: String, network: String)

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .settled(let response): try response.encode(to: encoder)
        case .failed(let reason, let network): try FailedReceiptWire(errorReason: reason, network: network).encode(to: encoder)
        }
    }
}

struct FailedReceiptWire: Encodable {
    var success = false
    var errorReason: String
    var network: String
    var transaction = ""
}

// MARK: Agent card

struct AgentCardWire: Encodable {
    var protocolVersion = "0.3.0"
    var name: String
    var description: String
    var url: String
    var version: String
    var preferredTransport = "JSONRPC"
    var capabilities: CapabilitiesWire
    var defaultInputModes = ["text/plain"]
    var defaultOutputModes = ["text/plain"]
    var skills: [SkillWire]
}

struct CapabilitiesWire: Encodable {
    var streaming = false
    var pushNotifications = false
    var extensions: [ExtensionWire]
}

struct ExtensionWire: Encodable {
    var uri: String
    var description: String
    var required: Bool
    var params: ExtensionParamsWire
}

struct ExtensionParamsWire: Encodable {
    var pricing: [PriceWire]
}

/// One skill's price (Specs/a2a.md §2): machines read `amount` (atomic units), people `price`.
struct PriceWire: Encodable {
    var skill: String
    var scheme: String
    var network: String
    var asset: String
    var decimals: Int
    var amount: String
    var price: String
    var unit: String
    var payTo: String
}

struct SkillWire: Encodable {
    var id: String
    var name: String
    var description: String
    var tags: [String]
    var inputModes = ["text/plain"]
    var outputModes = ["text/plain"]
}
