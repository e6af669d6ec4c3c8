public import PaymeshGossip
public import PaymeshMessages

extension RoutingGraph {
    /// The directed graph of `graph`'s channels in `asset` (Specs/routing.md §2): for each channel
    /// and each end that published a CHANNEL_UPDATE, an edge from that end to the other with the
    /// update's terms and the announcement's capacity. Channels of another asset (id or decimals)
    /// are left out: an HTLC moves one asset end to end.
    public init(_ graph: NetworkGraph, asset: Asset) {
        self.init()
        let channels = graph.channels.values
            .filter { $0.announcement.asset == asset }
            .sorted { $0.announcement.channelID.bytes.lexicographicallyPrecedes($1.announcement.channelID.bytes) }
        for channel in channels {
            let a = channel.announcement
            for (end, other) in [(a.peerA, a.peerB), (a.peerB, a.peerA)] {
                guard let u = channel.update(from: end)?.update else { continue }
                add(Edge(channelID: a.channelID, from: end, to: other, capacity: a.capacity, feeBase: u.feeBase,
                         feePPM: u.feePPM, htlcMinimum: u.htlcMinimum, htlcMaximum: u.htlcMaximum,
                         expiryDeltaMillis: u.expiryDeltaMillis, enabled: u.enabled))
            }
        }
        prepareForSearch()
    }
}
