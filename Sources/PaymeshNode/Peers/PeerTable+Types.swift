public import PaymeshCrypto

/// Identifies one transport connection inside a node (assigned by the peer manager).
public struct ConnectionID: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64
    public init(_ rawValue: UInt64) { self.rawValue = rawValue }
    public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    public var description: String { "c\(rawValue)" }
}

/// Who opened a connection: `outbound` = this node dialed, `inbound` = the peer dialed.
public enum ConnectionDirection: String, Hashable, Sendable {
    case inbound, outbound
}

/// Where a dialable address of a peer came from. Static and discovered addresses keep the peer
/// wanted (redialled with backoff); a manual address (console `connect`) is redialled only
/// after the peer was connected through it.
public enum AddressSource: String, Hashable, Sendable, Comparable {
    case `static`, discovered, manual
    public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    private var rank: Int { switch self { case .static: 0; case .discovered: 1; case .manual: 2 } }
}

/// One dial the table asks for. `expected` pins the identity (known peers); a static endpoint
/// dialled for the first time has none, and the handshake tells who answered.
public struct Dial: Hashable, Sendable, CustomStringConvertible {
    public let endpoint: PeerEndpoint
    public let expected: EthereumAddress?
    public init(endpoint: PeerEndpoint, expected: EthereumAddress?) {
        self.endpoint = endpoint
        self.expected = expected
    }
    public var description: String { expected.map { "\($0)@\(endpoint)" } ?? "\(endpoint)" }
}

/// Why the node closes a connection (sent to logs and to `peer.down` events).
public enum DisconnectReason: Hashable, Sendable, CustomStringConvertible {
    /// Dial deduplication (Specs/console.md §7): the other connection to the same peer wins.
    case duplicate
    /// The maximum peer count is reached.
    case tooManyPeers
    /// The peer is banned until its ban expires.
    case banned
    /// The peer broke the protocol; it is banned.
    case protocolViolation(String)
    /// An operator asked (console `disconnect`).
    case requested
    /// The node is stopping.
    case shutdown

    public var description: String {
        switch self {
        case .duplicate: "duplicate connection"
        case .tooManyPeers: "too many peers"
        case .banned: "peer is banned"
        case .protocolViolation(let why): "protocol violation: \(why)"
        case .requested: "disconnect requested"
        case .shutdown: "node shutting down"
        }
    }
}

/// What the peer table asks its driver to do. Equatable so tests compare whole action lists.
public enum PeerAction<Instant: InstantProtocol>: Hashable, Sendable where Instant.Duration == Duration {
    /// Open a connection; report `onDialSucceeded` or `onDialFailed`.
    case dial(Dial)
    /// Close a connection gracefully (GoAway, then close).
    case disconnect(ConnectionID, DisconnectReason)
    /// Measure the round-trip time on a connection; report `onPingResult`.
    case ping(ConnectionID)
    /// A redial is due at `at`; `onTick` at or after it performs it. Informational for drivers
    /// that tick anyway; a driver without a ticker sleeps until then.
    case scheduleRetry(Dial, at: Instant)
    /// Publish an event to subscribers.
    case emit(PeerEvent)
}

/// What the table reports happened; the peer manager publishes it as `NodeEvent.peer`.
public enum PeerEvent: Hashable, Sendable {
    case peerUp(EthereumAddress, direction: ConnectionDirection, remote: String?)
    case peerDown(EthereumAddress, reason: String)
    case peerBanned(EthereumAddress, reason: String, duration: Duration)
    case discoveryFound(EthereumAddress, PeerEndpoint)
    case discoveryLost(EthereumAddress)
    /// Discovery found a peer that the allowlist (`--discover-allow`) leaves out: not dialled.
    case discoverySkipped(EthereumAddress, PeerEndpoint)
}

/// How a dial failed, as far as the table cares.
public enum DialFailure: Hashable, Sendable {
    /// The address answered with our own identity: never dial it again.
    case selfConnection
    /// The address answered with an identity other than the one expected.
    case unexpectedPeer
    /// Anything else (refused, timeout, handshake failure).
    case unreachable(String)
}
