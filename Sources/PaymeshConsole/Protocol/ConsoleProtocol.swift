import PaymeshNode

/// The console's JSON-RPC 2.0 envelope (Specs/console.md §3–§5). Sans-IO: turns one line into a
/// request or an error response, and values into response and notification lines.
public enum ConsoleProtocol {
    public static let version = "2.0"

    /// A request id: a string, a number or null (JSON-RPC 2.0 §4).
    public enum RequestID: Hashable, Sendable {
        case string(String)
        case int(Int64)
        case double(Double)
        case null

        var json: JSONValue {
            switch self {
            case .string(let s): .string(s)
            case .int(let i): .int(i)
            case .double(let d): .double(d)
            case .null: .null
            }
        }
    }

    public struct Request: Hashable, Sendable {
        public let method: String
        /// Named parameters (absent `params` is an empty object).
        public let params: [String: JSONValue]
        /// Nil for a notification: it is executed and never answered.
        public let id: RequestID?

        public init(method: String, params: [String: JSONValue] = [:], id: RequestID?) {
            self.method = method
            self.params = params
            self.id = id
        }
    }

    /// A line that is not a valid request, with the id to answer it under (null if unknown).
    public struct Failure: Error, Hashable, Sendable {
        public let error: NodeError
        public let id: RequestID
    }

    // MARK: Decoding

    public static func parse(line: some Collection<UInt8>) -> Result<Request, Failure> {
        let value: JSONValue
        do {
            value = try JSONValue.parse(line)
        } catch {
            return .failure(Failure(error: error, id: .null))
        }
        return request(from: value)
    }

    public static func request(from value: JSONValue) -> Result<Request, Failure> {
        guard case .object(let o) = value else {
            let what = value.arrayValue != nil ? "batch requests are not supported" : "a request must be a JSON object"
            return .failure(Failure(error: .invalidRequest(what), id: .null))
        }
        var id: RequestID?
        switch o["id"] {
        case nil: id = nil
        case .string(let s)?: id = .string(s)
        case .int(let i)?: id = .int(i)
        case .double(let d)?: id = .double(d)
        case .null?: id = .null
        case let other?:
            return .failure(Failure(error: .invalidRequest("id must be a string, number or null, not \(other.typeName)"), id: .null))
        }
        let answerID = id ?? .null
        guard o["jsonrpc"] == .string(version) else {
            return .failure(Failure(error: .invalidRequest("jsonrpc must be \"2.0\""), id: answerID))
        }
        guard case .string(let method)? = o["method"], !method.isEmpty else {
            return .failure(Failure(error: .invalidRequest("method must be a non-empty string"), id: answerID))
        }
        if let extra = o.keys.first(where: { !["jsonrpc", "method", "params", "id"].contains($0) }) {
            return .failure(Failure(error: .invalidRequest("unknown member \(extra)"), id: answerID))
        }
        switch o["params"] {
        case nil, .null?: return .success(Request(method: method, id: id))
        case .object(let params)?: return .success(Request(method: method, params: params, id: id))
        case .array(let a)? where a.isEmpty: return .success(Request(method: method, id: id))
        case .array?:
            return .failure(Failure(error: .invalidParams("params must be an object (named parameters)"), id: answerID))
        case let other?:
            return .failure(Failure(error: .invalidRequest("params must be an object, not \(other.typeName)"), id: answerID))
        }
    }

    // MARK: Encoding (each result is one line, without its newline)

    public static func encodeRequest(method: String, params: [String: JSONValue], id: Int64) -> String {
        var o: [String: JSONValue] = ["jsonrpc": .string(version), "method": .string(method), "id": .int(id)]
        if !params.isEmpty { o["params"] = .object(params) }
        return JSONValue.object(o).description
    }

    public static func encodeResult(_ result: JSONValue, id: RequestID) -> String {
        JSONValue.object(["jsonrpc": .string(version), "result": result, "id": id.json]).description
    }

    public static func encodeError(_ error: NodeError, id: RequestID) -> String {
        JSONValue.object(["jsonrpc": .string(version), "error": errorObject(error), "id": id.json]).description
    }

    public static func errorObject(_ error: NodeError) -> JSONValue {
        ["code": .int(Int64(error.consoleCode)), "message": .string(error.detail), "data": ["name": .string(error.name)]]
    }

    /// A server-to-client notification (subscribe events).
    public static func encodeNotification(method: String, params: JSONValue) -> String {
        JSONValue.object(["jsonrpc": .string(version), "method": .string(method), "params": params]).description
    }

    // MARK: Client side

    /// A line a client receives: a response to one of its requests, or a notification.
    public enum Incoming: Hashable, Sendable {
        case response(id: RequestID, Result<JSONValue, RemoteError>)
        case notification(method: String, params: JSONValue)
    }

    /// A JSON-RPC error as received.
    public struct RemoteError: Error, Hashable, Sendable, CustomStringConvertible {
        public let code: Int
        public let message: String
        public let name: String?
        public var description: String { name.map { "\(message) (\(code) \($0))" } ?? "\(message) (\(code))" }
    }

    public static func parseIncoming(line: some Collection<UInt8>) throws(NodeError) -> Incoming {
        guard case .object(let o) = try JSONValue.parse(line), o["jsonrpc"] == .string(version) else {
            throw .parseError("not a JSON-RPC 2.0 message")
        }
        if case .string(let method)? = o["method"] {
            return .notification(method: method, params: o["params"] ?? .null)
        }
        let id: RequestID
        switch o["id"] {
        case .string(let s)?: id = .string(s)
        case .int(let i)?: id = .int(i)
        case .double(let d)?: id = .double(d)
        default: id = .null
        }
        if let result = o["result"] { return .response(id: id, .success(result)) }
        guard case .object(let e)? = o["error"], let code = e["code"]?.intValue else {
            throw .parseError("response without result or error")
        }
        let error = RemoteError(code: Int(code), message: e["message"]?.stringValue ?? "", name: e["data"]?["name"]?.stringValue)
        return .response(id: id, .failure(error))
    }
}
