public import PaymeshMessages

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
        /// A running call stopped on request (`pay.cancel`, Ctrl-C in `paymesh ctl`/`console`).
        case cancelled
        /// A Paymesh code (errors.md, 1000–1999) reported by a later layer (channels, payments).
        case paymesh(PaymeshErrorCode)
    }

    private let code: Code
    /// What went wrong, for people (logs, the console's `error.message`).
    public let detail: String

    private init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// What a console client sees: a JSON-RPC or console code with its name, or an errors.md code
    /// whose name comes from the code itself.
    private enum ConsoleCode {
        case rpc(Int, String)
        case paymesh(PaymeshErrorCode)
    }

    private var consoleError: ConsoleCode {
        switch code {
        case .parseError: .rpc(-32700, "PARSE_ERROR") // JSON-RPC 2.0 §5.1
        case .invalidRequest: .rpc(-32600, "INVALID_REQUEST")
        case .methodNotFound: .rpc(-32601, "METHOD_NOT_FOUND")
        case .invalidParams: .rpc(-32602, "INVALID_PARAMS")
        case .peerNotFound: .rpc(-32001, "PEER_NOT_FOUND") // console.md §5
        case .peerNotConnected: .rpc(-32002, "PEER_NOT_CONNECTED")
        case .dialFailed: .rpc(-32003, "DIAL_FAILED")
        case .tooManyPeers: .rpc(-32004, "TOO_MANY_PEERS")
        case .shuttingDown: .rpc(-32005, "SHUTTING_DOWN")
        case .pingFailed: .rpc(-32006, "PING_FAILED")
        case .cancelled: .rpc(-32050, "CANCELLED") // console.md §8, "Progress and cancellation"
        case .internalError, .identityFile, .configuration, .alreadyRunning, .consoleUnavailable, .protocolRegistration:
            .paymesh(.internalError)
        case .peerBanned: .paymesh(.peerBlacklisted)
        case .identityNotVerified: .paymesh(.identityNotVerified)
        case .rateLimited: .paymesh(.rateLimited)
        case .paymesh(let code): .paymesh(code)
        }
    }

    /// The errors.md code of this error, or nil when it has a JSON-RPC or console code.
    public var paymeshCode: PaymeshErrorCode? {
        if case .paymesh(let code) = consoleError { code } else { nil }
    }

    /// The number a console client sees in `error.code`.
    public var consoleCode: Int {
        switch consoleError {
        case .rpc(let code, _): code
        case .paymesh(let code): Int(code.rawValue)
        }
    }

    /// The symbolic name a console client sees in `error.data.name` (UNKNOWN_ERROR for an
    /// errors.md code this node does not know).
    public var name: String {
        switch consoleError {
        case .rpc(_, let name): name
        case .paymesh(let code): code.name ?? "UNKNOWN_ERROR"
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
    @inline(never) public static func cancelled(_ d: String) -> NodeError { NodeError(.cancelled, d) }
    @inline(never) public static func peerBanned(_ d: String) -> NodeError { NodeError(.peerBanned, d) }
    @inline(never) public static func identityNotVerified(_ d: String) -> NodeError { NodeError(.identityNotVerified, d) }

    /// An error with a Paymesh code (errors.md), e.g. a spending-policy refusal (`.invalidAmount`);
    /// its console code and name both come from `code`.
    @inline(never) public static func paymesh(_ code: PaymeshErrorCode, _ d: String) -> NodeError {
        NodeError(.paymesh(code), d)
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
