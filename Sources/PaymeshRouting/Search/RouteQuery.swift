public import PaymeshCrypto
public import PaymeshMessages

/// What to route (Specs/routing.md §3).
public struct RouteQuery: Sendable, Hashable {
    /// The paying node (this node): it charges no fee and adds no expiry delta.
    public var source: EthereumAddress
    /// The payee.
    public var target: EthereumAddress
    /// What the payee must receive, atomic units (> 0).
    public var amount: Amount
    /// Unix ms; the payee's HTLC expires at `now + finalExpiryDeltaMillis`.
    public var now: UInt64
    /// The expiry the payee asks for (the invoice's `min_final_expiry`).
    public var finalExpiryDeltaMillis: UInt64
    /// Routes whose fees exceed this are not returned (nil: no cap).
    public var maxFee: Amount?
    /// Channels and nodes the route must avoid (e.g. those that failed this payment).
    public var excludedChannels: Set<ChannelID>
    public var excludedNodes: Set<EthereumAddress>

    public static let defaultFinalExpiryDeltaMillis: UInt64 = 3_600_000

    public init(source: EthereumAddress, target: EthereumAddress, amount: Amount, now: UInt64,
                finalExpiryDeltaMillis: UInt64 = RouteQuery.defaultFinalExpiryDeltaMillis, maxFee: Amount? = nil,
                excludedChannels: Set<ChannelID> = [], excludedNodes: Set<EthereumAddress> = []) {
        self.source = source
        self.target = target
        self.amount = amount
        self.now = now
        self.finalExpiryDeltaMillis = finalExpiryDeltaMillis
        self.maxFee = maxFee
        self.excludedChannels = excludedChannels
        self.excludedNodes = excludedNodes
    }
}
