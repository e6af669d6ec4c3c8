import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages

/// Shared values of the gossip tests: fixed keys, a start time, payload builders.
enum Fixture {
    static let t0: UInt64 = 1_767_225_600_000

    static func key(_ n: UInt8) -> IdentityKey {
        var raw = [UInt8](repeating: 0, count: 32)
        raw[31] = n
        raw[0] = 0x11
        return IdentityKey(privateKey: try! Secp256k1.PrivateKey(rawRepresentation: raw))
    }

    static let alice = key(1), bob = key(2), carol = key(3), mallory = key(4)

    static func peer(_ n: UInt8) -> EthereumAddress { key(n).address }

    static func nodePayload(_ alias: String, key: IdentityKey = alice) -> GossipPayload {
        .node(try! NodeAnnouncement(alias: alias, addresses: ["127.0.0.1:9735"], features: ["payments/1"], onionKey: key.publicKey))
    }

    static func nodeMessage(_ alias: String, by key: IdentityKey = alice, at time: UInt64 = t0) -> GossipMessage {
        try! GossipMessage.sign(nodePayload(alias, key: key), timestamp: time, with: key)
    }

    static let channelID = try! ChannelID([UInt8](repeating: 7, count: 32))

    /// A CHANNEL_ANNOUNCE between `a` and `b`, signed by `signers` (the others keep a placeholder).
    static func announce(_ a: IdentityKey, _ b: IdentityKey, signers: [IdentityKey], id: ChannelID = channelID,
                         at time: UInt64 = t0) -> ChannelAnnounce {
        let (pa, pb) = a.address < b.address ? (a.address, b.address) : (b.address, a.address)
        var m = try! ChannelAnnounce(channelID: id, peerA: pa, peerB: pb, capacity: Amount(5_000_000),
                                     asset: try! Asset(id: "USDC", decimals: 6), feeBase: Amount(1), feePPM: 100,
                                     expiryDeltaMillis: 600_000, timestamp: time,
                                     signatureA: .unsigned, signatureB: .unsigned)
        for key in signers { m = try! m.signed(with: key) }
        return m
    }

    static func update(_ id: ChannelID = channelID, feePPM: UInt64 = 250, enabled: Bool = true) -> ChannelUpdate {
        try! ChannelUpdate(channelID: id, feeBase: Amount(2), feePPM: feePPM, htlcMinimum: Amount(1),
                           htlcMaximum: Amount(5_000_000), expiryDeltaMillis: 600_000, enabled: enabled)
    }

    static func service(_ name: String, unit: ServiceAnnouncement.Unit = .token, price: UInt128 = 15, asset: String = "USDC",
                        expires: UInt64) -> ServiceAnnouncement {
        try! ServiceAnnouncement(name: name, description: "d", unit: unit, price: Amount(price),
                                 asset: try! Asset(id: asset, decimals: 6), endpoint: .mesh, expires: expires)
    }

    static func hex(_ s: String) -> [UInt8] { [UInt8](hex: s)! }
}
