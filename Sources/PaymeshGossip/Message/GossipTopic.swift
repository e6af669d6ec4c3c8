/// A gossip topic name: 1–64 bytes of printable ASCII (0x21–0x7E), Specs/gossip.md §6.
public struct GossipTopic: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let name: String

    public init(_ name: String) throws(GossipError) {
        let bytes = name.utf8
        guard GossipLimits.topicBytes.contains(bytes.count), bytes.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw GossipError.frame("topic must be 1…64 bytes of printable ASCII")
        }
        self.name = name
    }

    private init(known name: String) { self.name = name }

    /// CHANNEL_ANNOUNCE and channel updates (§7.1, §7.2).
    public static let channels = GossipTopic(known: "paymesh/channels/1")
    /// Node announcements (§7.3).
    public static let nodes = GossipTopic(known: "paymesh/nodes/1")
    /// Service announcements (§7.4).
    public static let services = GossipTopic(known: "paymesh/services/1")
    /// The three topics of §6, which a node subscribes to.
    public static let all: [GossipTopic] = [.channels, .nodes, .services]

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.name < rhs.name }
    public var description: String { name }
}

/// A message id: keccak256 of the signed body (§5.3).
public struct GossipMessageID: Sendable, Hashable, Comparable, CustomStringConvertible {
    public static let byteCount = 32
    public let bytes: [UInt8]

    public init(_ bytes: [UInt8]) throws(GossipError) {
        guard bytes.count == Self.byteCount else { throw GossipError.frame("message id must be 32 bytes") }
        self.bytes = bytes
    }

    init(unchecked bytes: [UInt8]) { self.bytes = bytes }

    public func hash(into hasher: inout Hasher) { bytes.withUnsafeBytes { hasher.combine(bytes: $0) } }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.bytes.lexicographicallyPrecedes(rhs.bytes) }
    public var description: String { bytes.prefix(6).map { String($0, radix: 16).leftPadded() }.joined() + "…" }
}

extension String {
    fileprivate func leftPadded() -> String { count == 1 ? "0" + self : self }
}
