import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages

/// A network graph learned through `NetworkGraph.validate` from signed gossip messages: channel
/// A between keys 0 and 1 (key 0 publishes the update: it pays), channel B between keys 1 and 2
/// (key 1 pays, base 5, 2,000 ppm), one of another asset between keys 0 and 2.
enum GossipGraphFixture {
    static let keys: [IdentityKey] = (1...3).map { i in
        IdentityKey(privateKey: try! Secp256k1.PrivateKey(rawRepresentation: SHA256.hash([UInt8(i)])))
    }
    static let asset = try! Asset(id: "USDC", decimals: 6)
    /// Announcement signatures are verified by the router before the graph sees a message;
    /// the graph checks form only.
    static let formSignature = try! Signature65([UInt8](repeating: 1, count: 64) + [27])

    static func graph() throws -> NetworkGraph {
        var graph = NetworkGraph()
        func accept(_ payload: GossipPayload, by key: IdentityKey, at timestamp: UInt64) throws {
            let message = try GossipMessage.sign(payload, timestamp: timestamp, with: key)
            guard case .accept = graph.validate(message, now: timestamp) else { throw FixtureError.rejected }
        }
        func announce(_ id: Int, _ a: Int, _ b: Int, asset: Asset) throws {
            let (lo, hi) = keys[a].address < keys[b].address ? (a, b) : (b, a)
            let announcement = try ChannelAnnounce(channelID: channel(id), peerA: keys[lo].address, peerB: keys[hi].address,
                                                   capacity: Amount(1_000_000), asset: asset, feeBase: .zero, feePPM: 0,
                                                   expiryDeltaMillis: 60_000, timestamp: t0, signatureA: formSignature, signatureB: formSignature)
            try accept(.channelAnnounce(announcement), by: keys[a], at: t0)
        }
        func update(_ id: Int, by k: Int, base: UInt128, ppm: UInt64) throws {
            let u = try ChannelUpdate(channelID: channel(id), feeBase: Amount(base), feePPM: ppm, htlcMinimum: .zero,
                                      htlcMaximum: Amount(1_000_000), expiryDeltaMillis: 60_000, enabled: true)
            try accept(.channelUpdate(u), by: keys[k], at: t0 + 1)
        }
        try announce(1, 0, 1, asset: asset)
        try update(1, by: 0, base: 100, ppm: 0)
        try announce(2, 1, 2, asset: asset)
        try update(2, by: 1, base: 5, ppm: 2_000)
        try announce(3, 0, 2, asset: try Asset(id: "USDT", decimals: 6))
        try update(3, by: 0, base: 0, ppm: 0)
        return graph
    }

    enum FixtureError: Error { case rejected }
}
