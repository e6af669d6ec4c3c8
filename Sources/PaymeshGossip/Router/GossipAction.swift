public import PaymeshCrypto
public import PaymeshMessages

/// What the router asks its driver to do (Specs/gossip.md §9). A driver performs them in order.
public enum GossipAction: Sendable, Hashable {
    /// Write `frame.encoded()` on the peer's gossip stream, then call `onSent(to:)`.
    case send(GossipFrame, to: EthereumAddress)
    /// A new, valid message (already applied by the validator): tell the application.
    case deliver(GossipMessage)
    /// The peer sent something invalid; the node's misbehaviour accounting may act on it.
    case misbehaviour(EthereumAddress, GossipError)
    /// Framing with the peer is lost: close its gossip stream (the peer stays connected).
    case closeStream(EthereumAddress, GossipError)
    /// An ANNOUNCE_SIGNATURES frame (§7.5) from a peer that is one end of the channel, its own
    /// signature verified: the application counter-signs or completes it (never forwarded).
    case announceSignatures(ChannelAnnounce, from: EthereumAddress)
}

/// The application's verdict on a message whose envelope signature verified (§8).
public enum GossipValidation: Sendable, Hashable {
    /// Valid and new to the application: deliver and forward.
    case accept
    /// Valid in form but breaks a rule (e.g. a channel announced by one end only): not forwarded,
    /// counted against the sender (P4).
    case reject(String)
    /// Not forwarded, no penalty (stale, duplicate in content, unknown channel yet, store full).
    case ignore(String)
}

/// The application hook: a value the router asks, synchronously, before forwarding (sans-IO, no
/// closures). The network graph is one; it applies what it accepts.
public protocol GossipValidator {
    mutating func validate(_ message: GossipMessage, now: UInt64) -> GossipValidation
    /// A stored message a peer sent in answer to our graph-sync request (§8.5): its timestamp may
    /// be older than the acceptance window. Default: `validate`.
    mutating func validateSynced(_ message: GossipMessage, now: UInt64) -> GossipValidation
    /// The signed messages to answer a peer's graph-sync request with (§8.5), of `topics` only,
    /// at most `limit`, in an order a receiver can apply (an announcement before its updates).
    /// Default: none.
    func syncMessages(topics: Set<GossipTopic>, now: UInt64, limit: Int) -> [GossipMessage]
}

extension GossipValidator {
    public mutating func validateSynced(_ message: GossipMessage, now: UInt64) -> GossipValidation { validate(message, now: now) }
    public func syncMessages(topics: Set<GossipTopic>, now: UInt64, limit: Int) -> [GossipMessage] { [] }
}

/// Accepts every message (tests, and a router without an application).
public struct AcceptAllValidator: GossipValidator, Sendable {
    public init() {}
    public mutating func validate(_ message: GossipMessage, now: UInt64) -> GossipValidation { .accept }
}
