public import PaymeshMessages
import PaymeshMsgpack

/// A service a node sells (Specs/gossip.md §7.4); signed through the envelope by the node. A
/// service is identified by (origin, name); a newer announcement replaces it, one whose `expires`
/// is not after its timestamp withdraws it.
public struct ServiceAnnouncement: Sendable, Hashable {
    public static let nameBytes: ClosedRange<Int> = 1...64
    public static let descriptionBytes: ClosedRange<Int> = 0...512
    public static let urlBytes: ClosedRange<Int> = 1...256
    /// Furthest expiry an announcement may claim, ms after its timestamp (30 days).
    public static let maxLifetimeMillis: UInt64 = 2_592_000_000

    /// What one price unit buys.
    public enum Unit: String, Sendable, Hashable, CaseIterable {
        case call, token, second, byte
    }

    /// Where the service is reached.
    public enum Endpoint: Sendable, Hashable {
        /// Over a Paymesh stream to the origin node.
        case mesh
        /// An `http://` or `https://` URL.
        case http(String)
    }

    public var name: String
    public var description: String
    public var unit: Unit
    /// Price of one unit in the asset's atomic units.
    public var price: Amount
    public var asset: Asset
    public var endpoint: Endpoint
    /// The A2A agent card URL, when the service has one.
    public var agentCard: String?
    /// Milliseconds since the Unix epoch after which the announcement is void.
    public var expires: UInt64

    public init(name: String, description: String, unit: Unit, price: Amount, asset: Asset, endpoint: Endpoint,
                agentCard: String? = nil, expires: UInt64) throws(GossipError) {
        guard Self.nameBytes.contains(name.utf8.count) else { throw GossipError.message("service name must be 1…64 bytes") }
        guard Self.descriptionBytes.contains(description.utf8.count) else { throw GossipError.message("description over 512 bytes") }
        if case .http(let url) = endpoint, !Self.isHTTPURL(url) { throw GossipError.message("endpoint is neither \"mesh\" nor an http(s) URL") }
        if let agentCard, !Self.isHTTPURL(agentCard) { throw GossipError.message("agent_card is not an http(s) URL") }
        self.name = name
        self.description = description
        self.unit = unit
        self.price = price
        self.asset = asset
        self.endpoint = endpoint
        self.agentCard = agentCard
        self.expires = expires
    }

    init(_ data: MsgpackValue, timestamp: UInt64) throws(GossipError) {
        let f = try GossipFields(data, "service", kind: .malformedMessage)
        let unitName = try f.string("unit", bytes: 1...16)
        guard let unit = Unit(rawValue: unitName) else { throw f.fail("unit", "not one of call, token, second, byte") }
        let where_ = try f.string("endpoint", bytes: Self.urlBytes)
        let expires = try f.uint("expires")
        let (horizon, overflow) = timestamp.addingReportingOverflow(Self.maxLifetimeMillis)
        guard overflow || expires <= horizon else {
            throw f.fail("expires", "more than 30 days after the timestamp")
        }
        try self.init(name: try f.string("name", bytes: Self.nameBytes),
                      description: try f.string("description", bytes: Self.descriptionBytes),
                      unit: unit, price: try f.amount("price"), asset: try f.asset(),
                      endpoint: where_ == "mesh" ? .mesh : .http(where_),
                      agentCard: try f.optionalString("agent_card", bytes: Self.urlBytes), expires: expires)
    }

    func encode() -> MsgpackValue {
        var w = GossipFieldWriter()
        w.string("name", name)
        w.string("description", description)
        w.string("unit", unit.rawValue)
        w.amount("price", price)
        w.asset(asset)
        switch endpoint {
        case .mesh: w.string("endpoint", "mesh")
        case .http(let url): w.string("endpoint", url)
        }
        if let agentCard { w.string("agent_card", agentCard) }
        w.uint("expires", expires)
        return w.value
    }

    static func isHTTPURL(_ s: String) -> Bool {
        urlBytes.contains(s.utf8.count) && (s.hasPrefix("http://") || s.hasPrefix("https://"))
            && s.utf8.allSatisfy { (0x21...0x7E).contains($0) }
    }
}
