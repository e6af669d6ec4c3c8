import NIOCore
public import PaymeshNoise
public import PaymeshMux

/// The one error type of PaymeshTransport. A connection that fails closes with one of these;
/// the endpoint keeps serving its other connections.
public struct TransportError: Error, Hashable, CustomStringConvertible, Sendable {
    public enum Kind: String, Hashable, Sendable {
        /// The Noise handshake did not finish within its deadline.
        case handshakeTimeout
        /// The handshake failed: bad message, decrypt failure, invalid identity proof.
        case handshakeFailed
        /// The remote identity is our own (a node never connects to itself).
        case selfConnection
        /// The remote identity is not the one the dialer asked for.
        case unexpectedPeer
        /// A transport message failed to decrypt or was malformed after the handshake.
        case transportFailed
        /// The send nonce reached its limit; the connection must be replaced.
        case nonceExhausted
        /// The peer broke the multiplexing protocol.
        case muxProtocolError
        /// The peer let our outbound queue reach its limit (it grants no window while making us
        /// write); the connection was closed with GoAway(internal error). Not a protocol violation.
        case queueLimit
        /// Refused before the handshake: too many pending handshakes (globally or from the
        /// peer's address) or too many connections for the descriptors available.
        case admissionRefused
        /// A stream was reset (by the peer or locally).
        case streamReset
        /// The remote side refused a stream's protocol.
        case protocolRejected
        /// The connection is closed or closing.
        case connectionClosed
        /// The operation is not allowed in the current state.
        case invalidState
    }

    public let kind: Kind
    public let detail: String

    public init(_ kind: Kind, _ detail: String = "") {
        self.kind = kind
        self.detail = detail
    }

    @inline(never) static func wrap(_ error: any Error, as kind: Kind) -> TransportError {
        if let e = error as? TransportError { return e }
        // A socket error (connection reset by a killed peer, broken pipe) ends the connection; it is
        // not a protocol violation and must not get the peer banned.
        if error is IOError { return TransportError(.connectionClosed, SystemErrorText.describe(error)) }
        if let noise = error as? NoiseError {
            if noise.isSelfConnection { return TransportError(.selfConnection, noise.description) }
            if noise.isUnexpectedPeer { return TransportError(.unexpectedPeer, noise.description) }
            if noise.isNonceExhausted { return TransportError(.nonceExhausted, noise.description) }
        }
        return TransportError(kind, SystemErrorText.describe(error))
    }

    public var description: String { detail.isEmpty ? "transport: \(kind.rawValue)" : "transport: \(kind.rawValue): \(detail)" }
}
