/// The one error type of PaymeshGossip: why a gossip frame, message or payload from a peer was
/// refused (Specs/gossip.md). A peer's misbehaviour is a `GossipError`; our own broken invariant
/// is a `precondition`.
public struct GossipError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// The length prefix is 0 or above `GossipLimits.maxFrameBytes`: framing is lost and the
        /// stream MUST be closed (§2).
        case badFrameLength
        /// A frame inside a well-formed length prefix is not a valid envelope or control message (§3).
        case malformedFrame
        /// Envelope `v` is not 1 (§3).
        case unsupportedVersion
        /// Envelope `type` is not one of §4's.
        case unknownFrameType
        /// A PUBLISH body or its payload breaks §5/§7 (shape, limits, topic/kind mismatch).
        case malformedMessage
        /// The envelope signature, or a signature inside the payload, is not by the party it must be by.
        case invalidSignature
        /// The message timestamp is outside the acceptance window (§5.4).
        case timestampOutOfWindow
        /// The application's validation (the network graph, §8) rejected the message.
        case rejected
        /// Signing failed locally (not a peer's fault).
        case signingFailed
    }

    public let kind: Kind
    public let detail: String

    public init(_ kind: Kind, _ detail: String) {
        self.kind = kind
        self.detail = detail
    }

    /// True when framing is lost: close the stream.
    public var closesStream: Bool { kind == .badFrameLength }

    public var description: String { "\(kind): \(detail)" }

    static func frame(_ detail: String) -> GossipError { GossipError(.malformedFrame, detail) }
    static func message(_ detail: String) -> GossipError { GossipError(.malformedMessage, detail) }
}
