import NIOConcurrencyHelpers
import PaymeshNode

/// The JSON type a console parameter takes (shown by `help`, checked before the handler runs).
public enum ConsoleParamType: String, Hashable, Sendable {
    case string, integer, number, boolean, object, array, any

    func accepts(_ value: JSONValue) -> Bool {
        switch (self, value) {
        case (.any, _), (.string, .string), (.boolean, .bool), (.object, .object), (.array, .array), (.number, .int), (.number, .double):
            true
        case (.integer, _):
            value.intValue != nil
        case (.string, .int):
            true // a number typed where text is expected (`task_id=42`, `amount=1000000`) is its decimal text
        default:
            false
        }
    }
}

public struct ConsoleParam: Hashable, Sendable {
    public let name: String
    public let type: ConsoleParamType
    public let required: Bool
    public let summary: String

    public init(_ name: String, _ type: ConsoleParamType, required: Bool = true, _ summary: String) {
        self.name = name
        self.type = type
        self.required = required
        self.summary = summary
    }
}

/// One call as a handler sees it: parameters already checked against the method's schema.
public struct ConsoleCall: Sendable {
    public let method: String
    public let params: [String: JSONValue]
    /// The console connection the call came on (subscriptions attach to it).
    public let session: ConsoleSession

    /// A string parameter; an integer given for it is its decimal text.
    public func string(_ name: String) -> String? {
        if case .int(let i) = params[name] { return String(i) }
        return params[name]?.stringValue
    }
    public func int(_ name: String) -> Int64? { params[name]?.intValue }
    public func bool(_ name: String) -> Bool? { params[name]?.boolValue }

    public func requireString(_ name: String) throws(NodeError) -> String {
        guard let v = string(name) else { throw .invalidParams("missing string parameter \(name)") }
        return v
    }

    public func requireInt(_ name: String) throws(NodeError) -> Int64 {
        guard let v = int(name) else { throw .invalidParams("missing integer parameter \(name)") }
        return v
    }
}

/// A console method: name, documentation for `help`, parameter schema and handler.
public struct ConsoleMethod: Sendable {
    public typealias Handler = @Sendable (ConsoleCall) async throws -> JSONValue

    public let name: String
    public let summary: String
    public let params: [ConsoleParam]
    /// The result's shape in words (for `help` and Specs/console.md).
    public let result: String
    public let handler: Handler

    public init(_ name: String, summary: String, params: [ConsoleParam] = [], result: String, handler: @escaping Handler) {
        self.name = name
        self.summary = summary
        self.params = params
        self.result = result
        self.handler = handler
    }

    /// JSON for `help`.
    public var helpEntry: JSONValue {
        .object([
            "name": .string(name),
            "summary": .string(summary),
            "result": .string(result),
            "params": .array(params.map {
                ["name": .string($0.name), "type": .string($0.type.rawValue), "required": .bool($0.required), "summary": .string($0.summary)]
            }),
        ])
    }
}

/// A feature's console methods: a small type over the feature's typed API that turns it into JSON
/// methods (the feature itself knows nothing of the console).
public protocol ConsoleMethodGroup: Sendable {
    var methods: [ConsoleMethod] { get }
}

/// Method name → method. The composition root registers one method group per feature, before or
/// while the console runs.
public final class ConsoleRegistry: Sendable {
    private let methods = NIOLockedValueBox<[String: ConsoleMethod]>([:])

    public init() {}

    /// Adds a method; registering a name twice is a programming error.
    public func register(_ method: ConsoleMethod) {
        methods.withLockedValue { m in
            precondition(m[method.name] == nil, "console method \(method.name) registered twice")
            m[method.name] = method
        }
    }

    /// Adds every method of `group`.
    public func register(_ group: some ConsoleMethodGroup) {
        for method in group.methods { register(method) }
    }

    public func method(named name: String) -> ConsoleMethod? { methods.withLockedValue { $0[name] } }

    /// Every method, sorted by name.
    public var all: [ConsoleMethod] { methods.withLockedValue { $0.values.sorted { $0.name < $1.name } } }

    /// Runs one request; returns the response line, or nil for a notification.
    public func handle(_ request: ConsoleProtocol.Request, session: ConsoleSession) async -> String? {
        let outcome: Result<JSONValue, NodeError>
        do {
            outcome = .success(try await dispatch(request, session: session))
        } catch let error as NodeError {
            outcome = .failure(error)
        } catch {
            outcome = .failure(.internalError(String(describing: error)))
        }
        guard let id = request.id else { return nil }
        switch outcome {
        case .success(let result): return ConsoleProtocol.encodeResult(result, id: id)
        case .failure(let error): return ConsoleProtocol.encodeError(error, id: id)
        }
    }

    private func dispatch(_ request: ConsoleProtocol.Request, session: ConsoleSession) async throws -> JSONValue {
        guard let method = method(named: request.method) else { throw NodeError.methodNotFound(request.method) }
        for (name, value) in request.params.sorted(by: { $0.key < $1.key }) {
            guard let param = method.params.first(where: { $0.name == name }) else {
                throw NodeError.invalidParams("\(method.name) has no parameter \(name)")
            }
            guard param.type.accepts(value) else {
                throw NodeError.invalidParams("\(name) must be \(param.type.rawValue), not \(value.typeName)")
            }
        }
        for param in method.params where param.required && request.params[param.name] == nil {
            throw NodeError.invalidParams("\(method.name) needs parameter \(param.name) (\(param.type.rawValue))")
        }
        return try await method.handler(ConsoleCall(method: method.name, params: request.params, session: session))
    }
}
