/// The one error type of PaymeshNode. Every error carries the code and name a console client
/// sees in a JSON-RPC error (`Specs/console.md` §5): JSON-RPC's own codes (−32700…−32600),
/// console codes (−32000…−32099) and Paymesh codes (`Specs/errors.md`, 1000–1999).
public struct NodeError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case parseError, invalidRequest, methodNotFound, invalidParams, internalError
        case peerNotFound, peerNotConnected, dialFailed, tooManyPeers, shuttingDown, pingFailed
        case peerBanned, identityNotVerified, rateLimited
        case identityFile, configuration, alreadyRunning, consoleUnavailable
        /// A service registered a stream protocol that is already registered (ProtocolRouter).
        case protocolRegistration
        /// A Paymesh code (errors.md, 1000–1999) reported by a later layer (channels, payments).
        case paymesh(Int, String)
    }

    private let code: Code
    /// What went wrong, for people (logs, the console's `error.message`).
    public let detail: String

    private init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// The number a console client sees in `error.code`.
    public var consoleCode: Int {
        switch code {
        case .parseError: -32700 // JSON-RPC 2.0 §5.1
        case .invalidRequest: -32600
        case .methodNotFound: -32601
        case .invalidParams: -32602
        case .internalError: 1502 // errors.md INTERNAL_ERROR
        case .peerNotFound: -32001
        case .peerNotConnected: -32002
        case .dialFailed: -32003
        case .tooManyPeers: -32004
        case .shuttingDown: -32005
        case .pingFailed: -32006
        case .peerBanned: 1202 // errors.md PEER_BLACKLISTED
        case .identityNotVerified: 1201 // errors.md IDENTITY_NOT_VERIFIED
        case .rateLimited: 1504 // errors.md RATE_LIMITED
        case .identityFile, .configuration, .alreadyRunning, .consoleUnavailable, .protocolRegistration: 1502
        case .paymesh(let code, _): code
        }
    }

    /// The symbolic name a console client sees in `error.data.name`.
    public var name: String {
        switch code {
        case .parseError: "PARSE_ERROR"
        case .invalidRequest: "INVALID_REQUEST"
        case .methodNotFound: "METHOD_NOT_FOUND"
        case .invalidParams: "INVALID_PARAMS"
        case .internalError, .identityFile, .configuration, .alreadyRunning, .consoleUnavailable, .protocolRegistration: "INTERNAL_ERROR"
        case .peerNotFound: "PEER_NOT_FOUND"
        case .peerNotConnected: "PEER_NOT_CONNECTED"
        case .dialFailed: "DIAL_FAILED"
        case .tooManyPeers: "TOO_MANY_PEERS"
        case .shuttingDown: "SHUTTING_DOWN"
        case .pingFailed: "PING_FAILED"
        case .peerBanned: "PEER_BLACKLISTED"
        case .identityNotVerified: "IDENTITY_NOT_VERIFIED"
        case .rateLimited: "RATE_LIMITED"
        case .paymesh(_, let name): name
        }
    }

    public var description: String { detail }

    public var isIdentityFileError: Bool { code == .identityFile }
    public var isConfigurationError: Bool { code == .configuration }
    public var isAlreadyRunning: Bool { code == .alreadyRunning }

    // MARK: Console protocol
    @inline(never) public static func parseError(_ d: String) -> NodeError { NodeError(.parseError, d) }
    @inline(never) public static func invalidRequest(_ d: String) -> NodeError { NodeError(.invalidRequest, d) }
    @inline(never) public static func methodNotFound(_ method: String) -> NodeError {
        NodeError(.methodNotFound, "method not found: \(method) (try `help`)")
    }
    @inline(never) public static func invalidParams(_ d: String) -> NodeError { NodeError(.invalidParams, d) }
    @inline(never) public static func internalError(_ d: String) -> NodeError { NodeError(.internalError, d) }
    @inline(never) public static func rateLimited(_ d: String) -> NodeError { NodeError(.rateLimited, d) }

    // MARK: Peers
    @inline(never) public static func peerNotFound(_ id: String) -> NodeError { NodeError(.peerNotFound, "no such peer: \(id)") }
    @inline(never) public static func peerNotConnected(_ id: String) -> NodeError { NodeError(.peerNotConnected, "peer not connected: \(id)") }
    @inline(never) public static func dialFailed(_ d: String) -> NodeError { NodeError(.dialFailed, d) }
    @inline(never) public static func tooManyPeers(_ max: Int) -> NodeError { NodeError(.tooManyPeers, "peer limit reached (\(max))") }
    @inline(never) public static func shuttingDown() -> NodeError { NodeError(.shuttingDown, "the node is shutting down") }
    @inline(never) public static func pingFailed(_ d: String) -> NodeError { NodeError(.pingFailed, d) }
    @inline(never) public static func peerBanned(_ d: String) -> NodeError { NodeError(.peerBanned, d) }
    @inline(never) public static func identityNotVerified(_ d: String) -> NodeError { NodeError(.identityNotVerified, d) }

    /// An error with a Paymesh code (errors.md) and its name, e.g. a spending-policy refusal (1104).
    @inline(never) public static func paymesh(code: Int, name: String, _ d: String) -> NodeError {
        NodeError(.paymesh(code, name), d)
    }

    // MARK: Protocol router
    @inline(never) public static func protocolAlreadyRegistered(_ id: String) -> NodeError {
        NodeError(.protocolRegistration, "stream protocol \(id) is already registered")
    }
    @inline(never) public static func protocolNotOffered(_ d: String) -> NodeError { NodeError(.protocolRegistration, d) }

    // MARK: Start-up
    @inline(never) public static func identityFile(_ d: String) -> NodeError { NodeError(.identityFile, d) }
    @inline(never) public static func configuration(_ d: String) -> NodeError { NodeError(.configuration, d) }
    @inline(never) public static func alreadyRunning(_ d: String) -> NodeError { NodeError(.alreadyRunning, d) }
    @inline(never) public static func consoleUnavailable(_ d: String) -> NodeError { NodeError(.consoleUnavailable, d) }
}
