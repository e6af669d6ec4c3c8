public import PaymeshChannels
public import PaymeshMessages

/// Something that happened in the node, as a typed value. Features publish these through the
/// `NodeEventHub`; whoever subscribes decides what to make of them (a wire or text format is the
/// subscriber's business: this module has none).
public enum NodeEvent: Hashable, Sendable {
    /// A peer came up, went down or was banned; discovery found or lost a peer (`PeerManager`).
    case peer(PeerEvent)
    /// LAN discovery was switched on or off, with the reason (`PeerManager.setDiscoveryStatus`).
    case discoveryStatus(DiscoveryStatus)
    /// A channel machine's notification: state changes, refusals, acknowledgements, payments
    /// received, disputes, settlement (`PaymentsService`).
    case channel(ChannelNotification)
    /// A payment stream paused (cap, balance, refusal) with the cost left unpaid.
    case streamPaused(stream: String, channel: ChannelID, reason: StreamingSession.PauseReason, unpaid: UInt128)
    /// The network graph learned a channel, node or service from gossip (`GossipService`).
    case gossip(GossipEvent)
    /// The HTLC book's outcome of a payment over a route, forward or refusal, once durable
    /// (`PaymentsService`, Specs/channels.md §12.4).
    case htlc(HTLCEvent)
    /// A channel's HTLC state (settled amount, HTLCs) became durable after a change.
    case htlcChannel(ChannelID)
    /// A negotiation step, an agreement, a changed quote or an SLA violation (`NegotiationService`,
    /// `ServiceMarket`; Specs/negotiation.md).
    case market(MarketEvent)
}
