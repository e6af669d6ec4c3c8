import PaymeshCrypto
import PaymeshMessages

/// The channel-announcement exchange of Specs/gossip.md §7.5, sans-IO: which of this node's
/// channels are announceable, the payer's proposal (its own signature, the payee's slot holding
/// `Signature65.unsigned`), the payee's counter-signature, and the complete announcements each end
/// publishes and refreshes. Time (Unix ms) is passed in; nothing here sends or signs on a timer.
struct AnnouncementExchange {
    /// One channel of this node as the payments layer reports it.
    struct LocalChannel: Hashable, Sendable {
        var id: ChannelID
        var payer: EthereumAddress
        var payee: EthereumAddress
        var capacity: Amount
        var asset: Asset
    }

    enum Action: Equatable, Sendable {
        /// Send ANNOUNCE_SIGNATURES to `peer`.
        case send(ChannelAnnounce, to: EthereumAddress)
        /// The announcement is complete: apply it to our graph and publish it.
        case publish(ChannelAnnounce)
        /// The channel is no longer announceable (closing or gone): publish a disabled update.
        case withdrawn(ChannelID)
        /// An ANNOUNCE_SIGNATURES we do not sign (counted and logged; the router already checked
        /// the sender's own signature).
        case refused(ChannelID, from: EthereumAddress, String)
    }

    let key: IdentityKey
    let terms: GossipConfiguration.ForwardingTerms
    /// A proposal whose timestamp is further than this from our clock is refused (§7.5).
    let windowMillis: UInt64

    /// Announceable channels (OPEN or ACTIVE on this node), bounded by the node's channel table.
    private(set) var channels: [ChannelID: LocalChannel] = [:]
    /// Complete announcements (both signatures valid) of announceable channels.
    private(set) var complete: [ChannelID: ChannelAnnounce] = [:]
    /// Counters for `gossip.status`.
    private(set) var proposalsSent = 0
    private(set) var counterSigned = 0
    private(set) var refusedCount = 0

    init(key: IdentityKey, terms: GossipConfiguration.ForwardingTerms, windowMillis: UInt64) {
        self.key = key
        self.terms = terms
        self.windowMillis = windowMillis
    }

    var me: EthereumAddress { key.address }

    /// The payments layer's current announceable channels. New ones the node pays are proposed
    /// to their payee; ones that left are withdrawn.
    mutating func sync(_ current: [LocalChannel], now: UInt64) -> [Action] {
        var out: [Action] = []
        let ids = Set(current.map(\.id))
        for id in channels.keys.sorted(by: { $0.bytes.lexicographicallyPrecedes($1.bytes) }) where !ids.contains(id) {
            channels[id] = nil
            if complete.removeValue(forKey: id) != nil { out.append(.withdrawn(id)) }
        }
        for c in current where channels[c.id] == nil {
            channels[c.id] = c
            if c.payer == me, let proposal = proposal(for: c, now: now) { out.append(.send(proposal, to: c.payee)); proposalsSent += 1 }
        }
        return out
    }

    /// Proposals again for the channels we pay that are still incomplete (to `peer` only, when
    /// given): when the payee's gossip link comes up, and at every refresh.
    mutating func repropose(to peer: EthereumAddress? = nil, now: UInt64) -> [Action] {
        var out: [Action] = []
        for c in channels.values.sorted(by: { $0.id.bytes.lexicographicallyPrecedes($1.id.bytes) })
        where c.payer == me && complete[c.id] == nil && (peer == nil || c.payee == peer) {
            if let proposal = proposal(for: c, now: now) { out.append(.send(proposal, to: c.payee)); proposalsSent += 1 }
        }
        return out
    }

    /// An ANNOUNCE_SIGNATURES from `peer`, whose own signature the router verified.
    mutating func received(_ a: ChannelAnnounce, from peer: EthereumAddress, now: UInt64) -> [Action] {
        guard let c = channels[a.channelID] else { return refuse(a.channelID, peer, "no open channel with this id") }
        let other = c.payer == me ? c.payee : c.payer
        guard other == peer else { return refuse(a.channelID, peer, "the sender is not the channel's other end") }
        guard a.peerA == min(c.payer, c.payee), a.peerB == max(c.payer, c.payee), a.capacity == c.capacity, a.asset == c.asset else {
            return refuse(a.channelID, peer, "terms differ from the channel (ends, capacity or asset)")
        }
        if (try? a.verify()) != nil {
            // Both signatures: the proposer learns the counter-signature.
            if let known = complete[a.channelID], known.timestamp >= a.timestamp { return [] }
            complete[a.channelID] = a
            return [.publish(a)]
        }
        let skew = a.timestamp > now ? a.timestamp - now : now - a.timestamp
        guard skew <= windowMillis else { return refuse(a.channelID, peer, "timestamp \(a.timestamp) too far from \(now)") }
        if let known = complete[a.channelID], known.timestamp >= a.timestamp { return [.send(known, to: peer)] }
        guard let signed = try? a.signed(with: key), (try? signed.verify()) != nil else {
            return refuse(a.channelID, peer, "cannot counter-sign")
        }
        counterSigned += 1
        complete[a.channelID] = signed
        return [.send(signed, to: peer), .publish(signed)]
    }

    private mutating func refuse(_ id: ChannelID, _ peer: EthereumAddress, _ why: String) -> [Action] {
        refusedCount += 1
        return [.refused(id, from: peer, why)]
    }

    /// The payer's proposal: the terms, its signature, the payee's slot a placeholder.
    private func proposal(for c: LocalChannel, now: UInt64) -> ChannelAnnounce? {
        guard let draft = try? ChannelAnnounce(
            channelID: c.id, peerA: min(c.payer, c.payee), peerB: max(c.payer, c.payee), capacity: c.capacity, asset: c.asset,
            feeBase: terms.feeBase, feePPM: terms.feePPM, expiryDeltaMillis: terms.expiryDeltaMillis, timestamp: now,
            signatureA: .unsigned, signatureB: .unsigned) else { return nil }
        return try? draft.signed(with: key)
    }
}
