public import PaymeshCrypto
public import PaymeshMessages

/// The network as learned from gossip (Specs/gossip.md §8): channels signed by both ends with
/// each end's latest update, node announcements and service announcements. A value type and a
/// `GossipValidator`: the router asks it about every message whose signatures verified, and what
/// it accepts it has applied. Time is passed in (Unix ms); every table is bounded.
public struct NetworkGraph: GossipValidator, Sendable {
    public struct Limits: Sendable, Hashable {
        public var maxChannels = 100_000
        public var maxNodes = 50_000
        public var maxServices = 50_000
        public var maxServicesPerNode = 64
        /// A channel neither re-announced nor updated for this long is pruned (BOLT 7 uses two
        /// weeks; a node refreshes well within it, §8.3).
        public var channelStaleMillis: UInt64 = 14 * 86_400_000
        /// A node announcement not refreshed for this long is pruned.
        public var nodeStaleMillis: UInt64 = 14 * 86_400_000
        /// Updates of one channel end closer together than this are ignored (§7.2 rate limit).
        public var channelUpdateMinIntervalMillis: UInt64 = 10_000
        public init() {}
    }

    public struct Channel: Sendable, Hashable {
        public var announcement: ChannelAnnounce
        /// Each end's latest update and its timestamp (from that end's envelope): `update(from:)`.
        var a: UpdateEntry?
        var b: UpdateEntry?
        /// Our clock when it was first accepted and last refreshed (announcement or update).
        public internal(set) var firstSeen: UInt64
        public internal(set) var lastRefresh: UInt64

        struct UpdateEntry: Sendable, Hashable {
            var update: ChannelUpdate
            var timestamp: UInt64
        }

        public func update(from end: EthereumAddress) -> (update: ChannelUpdate, timestamp: UInt64)? {
            let entry = announcement.peerA == end ? a : announcement.peerB == end ? b : nil
            return entry.map { ($0.update, $0.timestamp) }
        }
    }

    public struct Node: Sendable, Hashable {
        public var id: EthereumAddress
        public var announcement: NodeAnnouncement
        public var timestamp: UInt64
        public internal(set) var lastRefresh: UInt64
    }

    public struct ServiceKey: Sendable, Hashable, Comparable {
        public var origin: EthereumAddress
        public var name: String
        public static func < (l: Self, r: Self) -> Bool { (l.origin, l.name) < (r.origin, r.name) }
    }

    public struct Service: Sendable, Hashable {
        public var origin: EthereumAddress
        public var announcement: ServiceAnnouncement
        public var timestamp: UInt64
    }

    public let limits: Limits
    public private(set) var channels: [ChannelID: Channel] = [:]
    public private(set) var nodes: [EthereumAddress: Node] = [:]
    public private(set) var services: [ServiceKey: Service] = [:]
    private var servicesPerNode: [EthereumAddress: Int] = [:]

    public init(limits: Limits = Limits()) { self.limits = limits }

    // MARK: validation (§8.1)

    public mutating func validate(_ message: GossipMessage, now: UInt64) -> GossipValidation {
        switch message.payload {
        case .channelAnnounce(let announce): applyAnnounce(announce, origin: message.origin, now: now)
        case .channelUpdate(let update): applyUpdate(update, origin: message.origin, timestamp: message.timestamp, now: now)
        case .node(let node): applyNode(node, origin: message.origin, timestamp: message.timestamp, now: now)
        case .service(let service): applyService(service, origin: message.origin, timestamp: message.timestamp, now: now)
        }
    }

    private mutating func applyAnnounce(_ a: ChannelAnnounce, origin: EthereumAddress, now: UInt64) -> GossipValidation {
        // Both signatures were verified with the envelope; the publisher must be one of the ends.
        guard a.peerA == origin || a.peerB == origin else { return .reject("CHANNEL_ANNOUNCE published by neither end") }
        if var existing = channels[a.channelID] {
            let old = existing.announcement
            guard old.peerA == a.peerA, old.peerB == a.peerB, old.asset == a.asset else { return .ignore("channel id announced with other ends") }
            guard a.timestamp >= old.timestamp else { return .ignore("older announcement") }
            existing.announcement = a
            existing.lastRefresh = max(existing.lastRefresh, now)
            channels[a.channelID] = existing
            return .accept
        }
        guard channels.count < limits.maxChannels else { return .ignore("channel table full") }
        channels[a.channelID] = Channel(announcement: a, firstSeen: now, lastRefresh: now)
        return .accept
    }

    private mutating func applyUpdate(_ u: ChannelUpdate, origin: EthereumAddress, timestamp: UInt64, now: UInt64) -> GossipValidation {
        guard var channel = channels[u.channelID] else { return .ignore("update for an unknown channel") }
        let isA = channel.announcement.peerA == origin
        guard isA || channel.announcement.peerB == origin else { return .reject("channel update from neither end") }
        let previous = isA ? channel.a : channel.b
        if let previous {
            guard timestamp > previous.timestamp else { return .ignore("stale channel update") }
            guard timestamp >= previous.timestamp + limits.channelUpdateMinIntervalMillis else { return .ignore("channel update rate") }
        }
        let entry = Channel.UpdateEntry(update: u, timestamp: timestamp)
        if isA { channel.a = entry } else { channel.b = entry }
        channel.lastRefresh = max(channel.lastRefresh, now)
        channels[u.channelID] = channel
        return .accept
    }

    private mutating func applyNode(_ n: NodeAnnouncement, origin: EthereumAddress, timestamp: UInt64, now: UInt64) -> GossipValidation {
        if let existing = nodes[origin] {
            guard timestamp > existing.timestamp else { return .ignore("stale node announcement") }
        } else {
            guard nodes.count < limits.maxNodes else { return .ignore("node table full") }
        }
        nodes[origin] = Node(id: origin, announcement: n, timestamp: timestamp, lastRefresh: now)
        return .accept
    }

    private mutating func applyService(_ s: ServiceAnnouncement, origin: EthereumAddress, timestamp: UInt64, now: UInt64) -> GossipValidation {
        let key = ServiceKey(origin: origin, name: s.name)
        if let existing = services[key], timestamp <= existing.timestamp { return .ignore("stale service announcement") }
        if s.expires <= timestamp {
            // A withdrawal (§7.4): forwarded so that every directory drops the service.
            removeService(key)
            return .accept
        }
        guard s.expires > now else { return .ignore("service already expired") }
        if services[key] == nil {
            guard services.count < limits.maxServices else { return .ignore("service table full") }
            guard servicesPerNode[origin, default: 0] < limits.maxServicesPerNode else { return .ignore("too many services from one node") }
            servicesPerNode[origin, default: 0] += 1
        }
        services[key] = Service(origin: origin, announcement: s, timestamp: timestamp)
        return .accept
    }

    private mutating func removeService(_ key: ServiceKey) {
        guard services.removeValue(forKey: key) != nil else { return }
        servicesPerNode[key.origin, default: 1] -= 1
        if servicesPerNode[key.origin] == 0 { servicesPerNode[key.origin] = nil }
    }

    // MARK: pruning (§8.3)

    public struct Pruned: Sendable, Hashable {
        public var channels = 0, nodes = 0, services = 0
    }

    /// Removes channels not refreshed within `channelStaleMillis`, expired services and nodes not
    /// refreshed within `nodeStaleMillis`.
    @discardableResult
    public mutating func prune(now: UInt64) -> Pruned {
        var pruned = Pruned()
        for (id, channel) in channels where channel.lastRefresh + limits.channelStaleMillis <= now {
            channels[id] = nil
            pruned.channels += 1
        }
        for (key, service) in services where service.announcement.expires <= now {
            removeService(key)
            pruned.services += 1
        }
        for (id, node) in nodes where node.lastRefresh + limits.nodeStaleMillis <= now {
            nodes[id] = nil
            pruned.nodes += 1
        }
        return pruned
    }
}
