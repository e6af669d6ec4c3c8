public import PaymeshCrypto
public import PaymeshMessages

/// Read-only views for `graph.nodes`, `graph.channels` and `services.find` (Specs/gossip.md §8.4).
extension NetworkGraph {
    /// One channel as the console shows it.
    public struct ChannelInfo: Sendable, Hashable {
        public var id: ChannelID
        public var peerA: EthereumAddress
        public var peerB: EthereumAddress
        public var capacity: Amount
        public var asset: Asset
        /// Announced terms, then each end's latest update (nil until it sent one).
        public var feeBase: Amount
        public var feePPM: UInt64
        public var updateA: ChannelUpdate?
        public var updateB: ChannelUpdate?
        /// Milliseconds since the last refresh (our clock).
        public var ageMillis: UInt64
    }

    public func channelInfos(now: UInt64) -> [ChannelInfo] {
        channels.values.map { c in
            let a = c.announcement
            return ChannelInfo(id: a.channelID, peerA: a.peerA, peerB: a.peerB,
                               capacity: a.capacity, asset: a.asset, feeBase: a.feeBase, feePPM: a.feePPM,
                               updateA: c.a?.update, updateB: c.b?.update,
                               ageMillis: now > c.lastRefresh ? now - c.lastRefresh : 0)
        }.sorted { $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) }
    }

    /// Nodes sorted by id.
    public var nodeList: [Node] { nodes.values.sorted { $0.id < $1.id } }

    /// What `services.find` filters by; nil matches everything.
    public struct ServiceQuery: Sendable, Hashable {
        /// Case-insensitive substring of the service name.
        public var name: String?
        public var unit: ServiceAnnouncement.Unit?
        /// In atomic units of `asset` (a price cap only makes sense with an asset).
        public var maxPrice: Amount?
        public var asset: String?
        public init(name: String? = nil, unit: ServiceAnnouncement.Unit? = nil, maxPrice: Amount? = nil, asset: String? = nil) {
            self.name = name
            self.unit = unit
            self.maxPrice = maxPrice
            self.asset = asset
        }
    }

    /// Unexpired services matching `query`, cheapest first (then by origin and name).
    public func findServices(_ query: ServiceQuery, now: UInt64) -> [Service] {
        services.values.filter { s in
            let a = s.announcement
            guard a.expires > now else { return false }
            if let name = query.name, !a.name.lowercased().contains(name.lowercased()) { return false }
            if let unit = query.unit, a.unit != unit { return false }
            if let asset = query.asset, a.asset.id != asset { return false }
            if let maxPrice = query.maxPrice, a.price > maxPrice { return false }
            return true
        }.sorted { ($0.announcement.price, ServiceKey(origin: $0.origin, name: $0.announcement.name))
            < ($1.announcement.price, ServiceKey(origin: $1.origin, name: $1.announcement.name)) }
    }
}
