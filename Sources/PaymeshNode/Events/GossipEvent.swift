public import PaymeshCrypto
public import PaymeshMessages

/// What the gossip service tells the node (`NodeEvent.gossip`): the graph learned something.
public enum GossipEvent: Hashable, Sendable {
    /// A channel, signed by both ends, entered the graph for the first time.
    case channelAnnounced(ChannelID, peerA: EthereumAddress, peerB: EthereumAddress, capacity: UInt128, asset: String)
    /// A node announcement was accepted (new or newer).
    case nodeAnnounced(EthereumAddress, alias: String)
    /// A service announcement was accepted (new or newer).
    case serviceAnnounced(origin: EthereumAddress, name: String, price: UInt128, asset: String)
    /// A service was withdrawn by its origin.
    case serviceWithdrawn(origin: EthereumAddress, name: String)
}
