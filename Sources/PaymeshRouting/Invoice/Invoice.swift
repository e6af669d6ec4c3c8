public import PaymeshCrypto
public import PaymeshMessages

/// A payment request signed by the payee (Specs/invoice.md): who to pay, the payment hash whose
/// preimage the payee reveals on payment, how much of which asset, until when, and optional
/// route hints to reach the payee over channels the graph does not show.
public struct Invoice: Sendable, Hashable {
    /// One channel into the payee that gossip may not show (invoice.md §2.1): `nodeID` forwards
    /// over `channelID` to the payee with these terms.
    public struct RouteHint: Sendable, Hashable {
        public var nodeID: EthereumAddress
        public var channelID: ChannelID
        public var feeBase: Amount
        public var feePPM: UInt64
        public var expiryDeltaMillis: UInt64
        public var htlcMinimum: Amount
        public var htlcMaximum: Amount

        public init(nodeID: EthereumAddress, channelID: ChannelID, feeBase: Amount, feePPM: UInt64, expiryDeltaMillis: UInt64,
                    htlcMinimum: Amount, htlcMaximum: Amount) throws(RoutingError) {
            guard MessageLimits.feePPM.contains(feePPM) else { throw .invoiceMalformed("route hint fee_ppm over 1000000") }
            guard MessageLimits.expiryDeltaMillis.contains(expiryDeltaMillis) else {
                throw .invoiceMalformed("route hint expiry_delta outside 1…2592000000")
            }
            guard htlcMinimum <= htlcMaximum else { throw .invoiceMalformed("route hint htlc_min above htlc_max") }
            self.nodeID = nodeID
            self.channelID = channelID
            self.feeBase = feeBase
            self.feePPM = feePPM
            self.expiryDeltaMillis = expiryDeltaMillis
            self.htlcMinimum = htlcMinimum
            self.htlcMaximum = htlcMaximum
        }
    }

    /// Every invoice string starts with this (invoice.md §3).
    public static let prefix = "pminv1"
    /// Body schema version.
    public static let version: UInt64 = 1
    /// Prepended to the body before EIP-191 hashing, so an invoice signature is never anything else.
    public static let signingTag: [UInt8] = Array("paymesh-invoice-1:".utf8)
    /// Longest invoice string accepted (fits a QR code of version 40 in alphanumeric mode, 4,296).
    public static let maxStringLength = 2_048
    /// Longest memo, UTF-8 bytes.
    public static let maxMemoBytes = 256
    /// At most this many route hints.
    public static let maxRouteHints = 4
    /// `expiry` and `min_final_expiry`: 1 ms … 30 days (messages.md §4.8's expiry_delta bound).
    public static let expiryRange: ClosedRange<UInt64> = 1...2_592_000_000

    public var payee: EthereumAddress
    public var paymentHash: Hash32
    /// nil: the payer chooses the amount (a donation-style invoice).
    public var amount: Amount?
    public var asset: Asset
    public var memo: String
    /// Unix ms when the payee made it.
    public var created: UInt64
    /// How long it stands, ms after `created`.
    public var expiryMillis: UInt64
    /// The expiry (ms past the payer's now) the payee requires on its incoming HTLC.
    public var minFinalExpiryMillis: UInt64
    public var routeHints: [RouteHint]

    public init(payee: EthereumAddress, paymentHash: Hash32, amount: Amount?, asset: Asset, memo: String, created: UInt64,
                expiryMillis: UInt64, minFinalExpiryMillis: UInt64 = RouteQuery.defaultFinalExpiryDeltaMillis,
                routeHints: [RouteHint] = []) throws(RoutingError) {
        if let amount { guard amount > .zero else { throw .invoiceMalformed("amount must be > 0 when present") } }
        guard memo.utf8.count <= Self.maxMemoBytes else { throw .invoiceMalformed("memo over \(Self.maxMemoBytes) bytes") }
        guard Self.expiryRange.contains(expiryMillis) else { throw .invoiceMalformed("expiry outside 1…2592000000 ms") }
        guard Self.expiryRange.contains(minFinalExpiryMillis) else { throw .invoiceMalformed("min_final_expiry outside 1…2592000000 ms") }
        guard routeHints.count <= Self.maxRouteHints else { throw .invoiceMalformed("more than \(Self.maxRouteHints) route hints") }
        let (_, o) = created.addingReportingOverflow(expiryMillis)
        guard !o else { throw .invoiceMalformed("created + expiry overflows") }
        self.payee = payee
        self.paymentHash = paymentHash
        self.amount = amount
        self.asset = asset
        self.memo = memo
        self.created = created
        self.expiryMillis = expiryMillis
        self.minFinalExpiryMillis = minFinalExpiryMillis
        self.routeHints = routeHints
    }

    /// Unix ms from which the invoice is no longer paid.
    public var expiresAt: UInt64 { created + expiryMillis }

    /// The route hints as graph edges into the payee (capacity: the hint's htlc_max).
    public var hintEdges: [RoutingGraph.Edge] {
        routeHints.map { h in
            RoutingGraph.Edge(channelID: h.channelID, from: h.nodeID, to: payee, capacity: h.htlcMaximum, feeBase: h.feeBase,
                              feePPM: h.feePPM, htlcMinimum: h.htlcMinimum, htlcMaximum: h.htlcMaximum,
                              expiryDeltaMillis: h.expiryDeltaMillis)
        }
    }
}
