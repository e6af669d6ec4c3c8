import PaymeshCrypto
import PaymeshMessages
public import PaymeshStore

/// What the HTLC book asks its driver to do, in order. A `.persist` must be durable before any
/// later action of the same list is performed (persist before send, Specs/channels.md §12.4).
public enum HTLCAction: Sendable, Equatable {
    /// Make this channel's HTLC state durable (its `htlcs` rows and latest voucher).
    case persist(HTLCChannel)
    case send(Message, to: EthereumAddress)
    case notify(HTLCEvent)
    /// The final hop fulfils an invoice of ours: mark it paid in the same write as the next
    /// `.persist` of `channelID` (the one that records the fulfilment), so both are durable or neither.
    case invoicePaid(paymentHash: Hash32, amount: UInt128, channelID: ChannelID)
    /// An HTLC this node offered as a payment's origin was fulfilled or cancelled: record `outcome`
    /// in the same write as the next `.persist` of `channelID` (the one that drops the HTLC), so a
    /// payer killed at any instant finds the HTLC pending or its outcome (Specs/channels.md §12.4).
    case originResolved(RouteOutcome, channelID: ChannelID)
    /// The received HTLC `incoming` is parked until its next channel `channelID` is taken over:
    /// wait for that channel's acknowledgement, then `forwardParked` (or, at the deadline,
    /// `abandonParked`) — once the actions before it are durable (Specs/channels.md §12.10).
    case awaitTakeOver(ChannelID, incoming: HTLCRef)
}

/// An invoice the final hop fulfils (Specs/channels.md §12.7): its preimage and the terms an
/// incoming HTLC must meet — at least `amount` (nil: any), in `asset` (nil: any), before `expiresAt`.
public struct HTLCInvoice: Sendable, Hashable {
    /// Open invoices a node keeps at most (each is a row of `invoices` and 150 bytes of memory).
    public static let maxOpen = 100_000

    public let preimage: Hash32
    public let paymentHash: Hash32
    public let amount: UInt128?
    public let asset: Asset?
    public let expiresAt: UInt64

    public init(preimage: Hash32, amount: UInt128? = nil, asset: Asset? = nil, expiresAt: UInt64 = .max) {
        self.preimage = preimage
        self.paymentHash = HTLCBook.hash(preimage)
        self.amount = amount
        self.asset = asset
        self.expiresAt = expiresAt
    }
}

/// What happened to an HTLC, for subscribers, `pay.route` callers and tests.
public enum HTLCEvent: Sendable, Hashable {
    /// Origin: the payee revealed the preimage; `fees` is what the hops kept.
    case paymentSucceeded(paymentHash: Hash32, preimage: Hash32, amount: UInt128, fees: UInt128)
    /// Origin: the route failed at hop `hopIndex` (0 = the first hop, also blamed when no hop's
    /// failure verifies), whose node is `node`, with `code` (Specs/onion.md §5.3).
    case paymentFailed(paymentHash: Hash32, hopIndex: Int, node: EthereumAddress, code: PaymeshErrorCode)
    /// Final hop: a payment arrived and was fulfilled.
    case paymentReceived(paymentHash: Hash32, amount: UInt128, channelID: ChannelID)
    /// Forwarding hop: an HTLC was relayed downstream, keeping `fee`.
    case forwarded(paymentHash: Hash32, incoming: HTLCRef, outgoing: HTLCRef, fee: UInt128)
    /// A peer's HTLC message was refused (answered on the wire with `code`).
    case refused(peer: EthereumAddress, code: PaymeshErrorCode, detail: String)
}

/// One hop of an explicit route (issue 10 item 4; path search comes later): the node, its onion key
/// (its secp256k1 identity key, Specs/onion.md §1), the channel that reaches it from the previous
/// hop, and the node's forwarding terms (ignored for the final hop).
public struct RouteHop: Sendable, Hashable {
    public let node: EthereumAddress
    public let nodeKey: Secp256k1.PublicKey
    public let channelID: ChannelID
    public let feeBase: UInt128
    public let feePPM: UInt64
    public let expiryDeltaMillis: UInt64

    public init(nodeKey: Secp256k1.PublicKey, channelID: ChannelID, feeBase: UInt128 = 0, feePPM: UInt64 = 0,
                expiryDeltaMillis: UInt64 = HTLCPolicy.defaultExpiryDeltaMillis) {
        self.node = EthereumAddress(publicKey: nodeKey)
        self.nodeKey = nodeKey
        self.channelID = channelID
        self.feeBase = feeBase
        self.feePPM = feePPM
        self.expiryDeltaMillis = expiryDeltaMillis
    }
}
