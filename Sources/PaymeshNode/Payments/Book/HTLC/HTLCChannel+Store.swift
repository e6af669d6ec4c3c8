import PaymeshChannels
import PaymeshMessages
import PaymeshStore

extension HTLCChannel {
    /// The rows of Specs/storage.md "HTLCs" for this channel.
    public var stored: StoredHTLCChannel {
        StoredHTLCChannel(
            channelID: channelID, nonce: nonce, settled: Amount(settled),
            voucher: role == .payer
                ? lastUpdate.map { ($0.amount, $0.timestamp, $0.signature) }
                : latestVoucher.flatMap { v in latestSignature.map { (v.amount, v.timestamp, $0) } },
            htlcs: htlcs.map { e in
                StoredHTLC(htlcID: e.htlcID, side: e.side, state: e.state, paymentHash: e.paymentHash,
                           amount: Amount(e.amount), expiryMillis: e.expiry, preimage: e.preimage, reason: e.reason,
                           link: e.link.map { ($0.channelID, $0.htlcID) }, sharedSecret: e.sharedSecret)
            })
    }

    /// A channel's HTLC state as the store kept it, with the channel's terms and this node's role.
    public init(restoring s: StoredHTLCChannel, terms: ChannelTerms, role: PaymeshChannels.ChannelRole) {
        self.init(terms: terms, role: role, nonce: s.nonce, settled: s.settled.atomicUnits)
        htlcs = s.htlcs.map { h in
            var e = HTLCEntry(channelID: s.channelID, htlcID: h.htlcID, paymentHash: h.paymentHash, amount: h.amount.atomicUnits,
                              expiry: h.expiryMillis, side: h.side, state: h.state)
            e.preimage = h.preimage
            e.reason = h.reason
            e.link = h.link.map { HTLCRef(channelID: $0.channelID, htlcID: $0.htlcID) }
            e.sharedSecret = h.sharedSecret
            return e
        }
        usedIDs = Set(htlcs.map(\.htlcID)).union(s.retiredIDs)
        if let v = s.voucher, role == .payer {
            lastUpdate = try? PaymentUpdate(channelID: s.channelID, nonce: s.nonce, amount: v.amount, timestamp: v.timestampMillis,
                                            locks: htlcs.isEmpty ? nil : htlcs.map(\.htlcID), signature: v.signature)
        } else if let v = s.voucher {
            latestVoucher = ConditionalVoucher(channelID: s.channelID, nonce: s.nonce, amount: v.amount, timestamp: v.timestampMillis,
                                               locks: htlcs.map(\.lock))
            latestSignature = v.signature
        }
    }
}
