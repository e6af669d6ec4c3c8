import PaymeshMessages
import PaymeshStore

/// One HTLC of one channel, as this node records it (the `htlcs` rows of Specs/storage.md §HTLCs).
public struct HTLCEntry: Sendable, Hashable {
    /// `.offered`: this node is the channel's payer and locked the HTLC; `.received`: the payee.
    /// (The store's enum: one name for one thing.)
    public typealias Side = StoredHTLC.Side
    /// `.pending` until the preimage or a cancel is known; `.fulfilled` / `.cancelled` stay until the
    /// payer's next voucher leaves the HTLC out (`HTLCChannel.settled` then includes a fulfilled one).
    public typealias State = StoredHTLC.State

    public let channelID: ChannelID
    public let htlcID: HTLCID
    public let paymentHash: Hash32
    public let amount: UInt128
    public let expiry: UInt64
    public let side: Side
    public var state: State
    public var preimage: Hash32?
    /// Why it was cancelled.
    public var reason: PaymeshErrorCode?
    /// A forwarded HTLC's other half: for a received one the HTLC offered downstream, for an offered
    /// one the HTLC received upstream. Nil at the origin and the final hop.
    public var link: HTLCRef?
    /// A forwarded received HTLC while pending: the onion secret this hop shares with the origin
    /// (SHA-256 of the ECDH point, onion.md §3.1), durable so that a restarted forwarder still wraps
    /// the failure it relays upstream (onion.md §5) and the origin can name the failing hop.
    public var sharedSecret: Hash32?

    public var ref: HTLCRef { HTLCRef(channelID: channelID, htlcID: htlcID) }
    public var lock: HTLCLock { HTLCLock(htlcID: htlcID, paymentHash: paymentHash, amount: Amount(amount), expiry: expiry) }
}

/// An HTLC's name: its channel and its id there.
public struct HTLCRef: Sendable, Hashable, CustomStringConvertible {
    public let channelID: ChannelID
    public let htlcID: HTLCID
    public init(channelID: ChannelID, htlcID: HTLCID) {
        self.channelID = channelID
        self.htlcID = htlcID
    }
    public var description: String { "\(channelID)/\(htlcID)" }
}
