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
        /// The signed message that carried the latest announcement (answers graph-sync requests, §8.5).
        public internal(set) var message: GossipMessage
        /// Each end's latest update and its timestamp (from that end's envelope): `update(from:)`.
        var a: UpdateEntry?
        var b: UpdateEntry?
        /// Our clock when it was first accepted and last refreshed (announcement or update); for an
        /// entry learned by graph sync, the origin's timestamp (§8.5).
        public internal(set) var firstSeen: UInt64
        public internal(set) var lastRefresh: UInt64

        struct UpdateEntry: Sendable, Hashable {
            var update: ChannelUpdate
            var timestamp: UInt64
            var message: GossipMessage
            /// When it counts as refreshed (our clock; a synced one: its timestamp).
            var refreshed: UInt64
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
        public internal(set) var message: GossipMessage
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
        public internal(set) var message: GossipMessage
    }

    public let limits: Limits
    public private(set) var channels: [ChannelID: Channel] = [:]
    public private(set) var nodes: [EthereumAddress: Node] = [:]
    public private(set) var services: [ServiceKey: Service] = [:]
    private var servicesPerNode: [EthereumAddress: Int] = [:]

    public init(limits: Limits = Limits()) { self.limits = limits }

    // MARK: validation (§8.1)

    public mutating func validate(_ message: GossipMessage, now: UInt64) -> GossipValidation {
        apply(message, refreshed: now, now: now)
    }

    /// A stored message from a peer's graph-sync answer (§8.5): its age counts from its own
    /// timestamp, so a channel or node is never kept alive longer than its origin refreshed it.
    public mutating func validateSynced(_ message: GossipMessage, now: UInt64) -> GossipValidation {
        let refreshed = min(message.timestamp, now)
        switch message.payload {
        case .channelAnnounce, .channelUpdate:
            guard refreshed + limits.channelStaleMillis > now else { return .ignore("synced channel message older than the stale period") }
        case .node:
            guard refreshed + limits.nodeStaleMillis > now else { return .ignore("synced node announcement older than the stale period") }
        case .service:
            break // expiry is checked as for a published one
        }
        return apply(message, refreshed: refreshed, now: now)
    }

    /// `refreshed`: the time the entry counts as refreshed at (our clock, or a synced message's timestamp).
    private mutating func apply(_ message: GossipMessage, refreshed: UInt64, now: UInt64) -> GossipValidation {
        switch message.payload {
        case .channelAnnounce(let announce): applyAnnounce(announce, message, refreshed: refreshed)
        case .channelUpdate(let update): applyUpdate(update, message, refreshed: refreshed)
        case .node(let node): applyNode(node, message, refreshed: refreshed)
        case .service(let service): applyService(service, message, now: now)
        }
    }

    private mutating func applyAnnounce(_ a: ChannelAnnounce, _ message: GossipMessage, refreshed now: UInt64) -> GossipValidation {
        let origin = message.origin
        // Both signatures were verified with the envelope; the publisher must be one of the ends.
        guard a.peerA == origin || a.peerB == origin else { return .reject("CHANNEL_ANNOUNCE published by neither end") }
        if var existing = channels[a.channelID] {
            let old = existing.announcement
            guard old.peerA == a.peerA, old.peerB == a.peerB, old.asset == a.asset else { return .ignore("channel id announced with other ends") }
            guard a.timestamp >= old.timestamp else { return .ignore("older announcement") }
            existing.announcement = a
            if message.timestamp >= existing.message.timestamp { existing.message = message }
            existing.lastRefresh = max(existing.lastRefresh, now)
            channels[a.channelID] = existing
            return .accept
        }
        guard channels.count < limits.maxChannels else { return .ignore("channel table full") }
        channels[a.channelID] = Channel(announcement: a, message: message, firstSeen: now, lastRefresh: now)
        return .accept
    }

    private mutating func applyUpdate(_ u: ChannelUpdate, _ message: GossipMessage, refreshed now: UInt64) -> GossipValidation {
        let origin = message.origin, timestamp = message.timestamp
        guard var channel = channels[u.channelID] else { return .ignore("update for an unknown channel") }
        let isA = channel.announcement.peerA == origin
        guard isA || channel.announcement.peerB == origin else { return .reject("channel update from neither end") }
        let previous = isA ? channel.a : channel.b
        if let previous {
            guard timestamp > previous.timestamp else { return .ignore("stale channel update") }
            guard timestamp >= previous.timestamp + limits.channelUpdateMinIntervalMillis else { return .ignore("channel update rate") }
        }
        let entry = Channel.UpdateEntry(update: u, timestamp: timestamp, message: message, refreshed: now)
        if isA { channel.a = entry } else { channel.b = entry }
        channel.lastRefresh = max(channel.lastRefresh, now)
        channels[u.channelID] = channel
        return .accept
    }

    private mutating func applyNode(_ n: NodeAnnouncement, _ message: GossipMessage, refreshed now: UInt64) -> GossipValidation {
        let origin = message.origin, timestamp = message.timestamp
        if let existing = nodes[origin] {
            guard timestamp > existing.timestamp else { return .ignore("stale node announcement") }
        } else {
            guard nodes.count < limits.maxNodes else { return .ignore("node table full") }
        }
        nodes[origin] = Node(id: origin, announcement: n, timestamp: timestamp, lastRefresh: now, message: message)
        return .accept
    }

    private mutating func applyService(_ s: ServiceAnnouncement, _ message: GossipMessage, now: UInt64) -> GossipValidation {
        let origin = message.origin, timestamp = message.timestamp
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
        services[key] = Service(origin: origin, announcement: s, timestamp: timestamp, message: message)
        return .accept
    }

    private mutating func removeService(_ key: ServiceKey) {
        guard services.removeValue(forKey: key) != nil else { return }
        servicesPerNode[key.origin, default: 1] -= 1
        if servicesPerNode[key.origin] == 0 { servicesPerNode[key.origin] = nil }
    }

    // MARK: graph sync (§8.5)

    /// The stored signed messages of `topics`: per channel (by id) its announcement then each
    /// end's update, then node announcements, then unexpired services (by origin and name); at
    /// most `limit`. Withdrawals are not kept, so none is sent.
    public func syncMessages(topics: Set<GossipTopic>, now: UInt64, limit: Int) -> [GossipMessage] {
        var out: [GossipMessage] = []
        if topics.contains(.channels) {
            for id in channels.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) {
                let c = channels[id]!
                guard c.lastRefresh + limits.channelStaleMillis > now else { continue }
                out.append(c.message)
                if let a = c.a { out.append(a.message) }
                if let b = c.b { out.append(b.message) }
                if out.count >= limit { return Array(out.prefix(limit)) }
            }
        }
        if topics.contains(.nodes) {
            for id in nodes.keys.sorted() where nodes[id]!.lastRefresh + limits.nodeStaleMillis > now {
                out.append(nodes[id]!.message)
                if out.count >= limit { return out }
            }
        }
        if topics.contains(.services) {
            for key in services.keys.sorted() where services[key]!.announcement.expires > now {
                out.append(services[key]!.message)
                if out.count >= limit { return out }
            }
        }
        return out
    }

    // MARK: pruning (§8.3)

    public struct Pruned: Sendable, Hashable {
        public var channels = 0, nodes = 0, services = 0
        /// Channel ends whose update went unrefreshed for `channelStaleMillis` (the channel stays
        /// while the other end refreshes it).
        public var updates = 0
    }

    /// Removes channels not refreshed within `channelStaleMillis`, expired services and nodes not
    /// refreshed within `nodeStaleMillis`.
    @discardableResult
    public mutating func prune(now: UInt64) -> Pruned {
        var pruned = Pruned()
        for (id, channel) in channels {
            if channel.lastRefresh + limits.channelStaleMillis <= now {
                channels[id] = nil
                pruned.channels += 1
                continue
            }
            var c = channel
            if let a = c.a, a.refreshed + limits.channelStaleMillis <= now { c.a = nil }
            if let b = c.b, b.refreshed + limits.channelStaleMillis <= now { c.b = nil }
            if c != channel {
                pruned.updates += (channel.a != nil && c.a == nil ? 1 : 0) + (channel.b != nil && c.b == nil ? 1 : 0)
                channels[id] = c
            }
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
