public import PaymeshMessages

/// One HTLC row (`htlcs`, Specs/storage.md "HTLCs"): an HTLC of one channel as its node records it.
public struct StoredHTLC: Sendable, Hashable {
    public enum Side: String, Sendable, Hashable { case offered, received }
    public enum State: String, Sendable, Hashable { case pending, fulfilled, cancelled }

    public var htlcID: HTLCID
    public var side: Side
    public var state: State
    public var paymentHash: Hash32
    public var amount: Amount
    public var expiryMillis: UInt64
    /// Present exactly when `state` is `.fulfilled`.
    public var preimage: Hash32?
    public var reason: PaymeshErrorCode?
    /// A forwarded HTLC's other half (channel, htlc id).
    public var link: (channelID: ChannelID, htlcID: HTLCID)? {
        get { linkChannel.flatMap { c in linkHTLC.map { (c, $0) } } }
        set { linkChannel = newValue?.channelID; linkHTLC = newValue?.htlcID }
    }
    var linkChannel: ChannelID?
    var linkHTLC: HTLCID?
    /// A forwarded, still pending received HTLC: the onion secret this hop shares with the origin
    /// (SHA-256 of the ECDH point, onion.md §3.1), to wrap the failure it relays upstream.
    public var sharedSecret: Hash32?

    public init(htlcID: HTLCID, side: Side, state: State, paymentHash: Hash32, amount: Amount, expiryMillis: UInt64,
                preimage: Hash32? = nil, reason: PaymeshErrorCode? = nil, link: (channelID: ChannelID, htlcID: HTLCID)? = nil,
                sharedSecret: Hash32? = nil) {
        self.htlcID = htlcID
        self.side = side
        self.state = state
        self.paymentHash = paymentHash
        self.amount = amount
        self.expiryMillis = expiryMillis
        self.preimage = preimage
        self.reason = reason
        self.linkChannel = link?.channelID
        self.linkHTLC = link?.htlcID
        self.sharedSecret = sharedSecret
    }
}

/// A channel's whole HTLC state (`htlc_channels` and its `htlcs` rows): the latest voucher nonce,
/// the settled amount, the latest conditional voucher a payee holds (amount, timestamp, signature)
/// and the HTLCs in signing order. Written as one unit.
public struct StoredHTLCChannel: Sendable, Hashable {
    public var channelID: ChannelID
    public var nonce: UInt64
    public var settled: Amount
    public var voucher: (amount: Amount, timestampMillis: UInt64, signature: Signature65)? {
        get { voucherAmount.flatMap { a in voucherSignature.map { (a, voucherTimestamp ?? 0, $0) } } }
        set { voucherAmount = newValue?.amount; voucherTimestamp = newValue?.timestampMillis; voucherSignature = newValue?.signature }
    }
    var voucherAmount: Amount?
    var voucherTimestamp: UInt64?
    var voucherSignature: Signature65?
    public var htlcs: [StoredHTLC]
    /// Ids the channel held before and no longer holds (`htlc_used_ids` minus `htlcs`), sorted by
    /// bytes: never to be used again. Saving adds the ids of `htlcs` to the table (it only grows, for
    /// the channel's life); these are read back, not written.
    public var retiredIDs: [HTLCID]
    /// Invoices to mark paid in the same request (written, never read back here: `loadInvoices`).
    public var paidInvoices: [InvoicePayment] = []
    /// Outcomes of HTLCs this state drops at their origin, written in the same request (schema v8;
    /// written, never read back here: `loadRouteOutcomes`).
    public var routeOutcomes: [RouteOutcome] = []
    /// Payment journal entries written in the same request: the origin's attempt with the state of
    /// its first HTLC, one commit (Specs/routing.md §8 step 5; written, never read back here: `loadPayments`).
    public var payments: [StoredPayment] = []

    public init(channelID: ChannelID, nonce: UInt64, settled: Amount,
                voucher: (amount: Amount, timestampMillis: UInt64, signature: Signature65)? = nil, htlcs: [StoredHTLC],
                retiredIDs: [HTLCID] = []) {
        self.channelID = channelID
        self.nonce = nonce
        self.settled = settled
        self.voucherAmount = voucher?.amount
        self.voucherTimestamp = voucher?.timestampMillis
        self.voucherSignature = voucher?.signature
        self.htlcs = htlcs
        self.retiredIDs = retiredIDs
    }
}
