public import PaymeshCrypto
import PaymeshMsgpack

/// What a node says about itself (Specs/gossip.md §7.3); signed through the envelope by the node.
public struct NodeAnnouncement: Sendable, Hashable {
    public static let aliasBytes: ClosedRange<Int> = 0...32
    public static let maxAddresses = 8
    public static let addressBytes: ClosedRange<Int> = 1...128
    public static let maxFeatures = 32
    public static let featureBytes: ClosedRange<Int> = 1...32

    public var alias: String
    /// Where the node listens, e.g. "127.0.0.1:9735" (free text for the dialer; not checked here).
    public var addresses: [String]
    /// Feature names as in the identity proof (transport.md), e.g. "payments/1".
    public var features: [String]
    /// The secp256k1 key that onion packets for this node are encrypted to (compressed, 33 bytes);
    /// a point on the curve, distinct from the identity key by the node's choice.
    public var onionKey: Secp256k1.PublicKey

    public init(alias: String, addresses: [String], features: [String], onionKey: Secp256k1.PublicKey) throws(GossipError) {
        guard Self.aliasBytes.contains(alias.utf8.count) else { throw GossipError.message("alias over 32 bytes") }
        guard addresses.count <= Self.maxAddresses, addresses.allSatisfy({ Self.addressBytes.contains($0.utf8.count) }) else {
            throw GossipError.message("addresses: at most 8 of 1…128 bytes")
        }
        guard features.count <= Self.maxFeatures, features.allSatisfy({ Self.featureBytes.contains($0.utf8.count) }) else {
            throw GossipError.message("features: at most 32 of 1…32 bytes")
        }
        self.alias = alias
        self.addresses = addresses
        self.features = features
        self.onionKey = onionKey
    }

    init(_ data: MsgpackValue) throws(GossipError) {
        let f = try GossipFields(data, "node", kind: .malformedMessage)
        let alias = try f.string("alias", bytes: Self.aliasBytes)
        var addresses: [String] = []
        for v in try f.array("addresses", count: 0...Self.maxAddresses) { addresses.append(try f.stringValue("addresses", v, Self.addressBytes)) }
        var features: [String] = []
        for v in try f.array("features", count: 0...Self.maxFeatures) { features.append(try f.stringValue("features", v, Self.featureBytes)) }
        let raw = try f.binary("onion_key", bytes: 33...33)
        guard raw[0] == 2 || raw[0] == 3, let key = try? Secp256k1.PublicKey(serialized: raw) else {
            throw f.fail("onion_key", "not a compressed secp256k1 point")
        }
        try self.init(alias: alias, addresses: addresses, features: features, onionKey: key)
    }

    func encode() -> MsgpackValue {
        var w = GossipFieldWriter()
        w.string("alias", alias)
        w.put("addresses", .array(addresses.map { .string($0) }))
        w.put("features", .array(features.map { .string($0) }))
        w.binary("onion_key", onionKey.compressedRepresentation)
        return w.value
    }
}
