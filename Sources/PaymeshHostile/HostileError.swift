import Glibc

/// Everything that can go wrong on the attacker's side: the library's one error type. A node
/// that closes a hostile connection is a result (`HostileError.Code.closed`), not a bug.
public struct HostileError: Error, Sendable, CustomStringConvertible {
    public enum Code: Sendable, Hashable {
        /// socket(), connect(), send() or recv() failed (errno in the detail).
        case socket
        /// The node closed the connection (EOF or reset).
        case closed
        /// Nothing arrived (or nothing could be sent) within the allowed time.
        case timeout
        /// The Noise handshake or identity proof failed on our side.
        case handshake
        /// The node sent bytes we could not decrypt or decode.
        case protocolViolation
        /// We could not build the message we wanted to send.
        case encoding
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code): \(detail)" }

    @inline(never)
    static func errno(_ what: String) -> HostileError {
        let e = Glibc.errno
        let code: Code = (e == ECONNRESET || e == EPIPE) ? .closed : .socket
        return HostileError(code, "\(what): \(String(cString: strerror(e))) (errno \(e))")
    }
}
