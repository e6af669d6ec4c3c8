/// Opening a payer channel by itself, for an HTTP request that no channel can pay
/// (Specs/channels.md §9.1, Specs/http402.md §11.3): the terms for one asset. Amounts are atomic
/// units of that asset. A policy without terms for an asset opens nothing in it (the default).
public struct AutoOpenTerms: Sendable, Hashable {
    /// The deposit of a channel opened for a request.
    public var deposit: UInt128
    /// The deposits of this node's unsettled payer channels to one payee, the new one included, stay at or below this.
    public var maxPerPeer: UInt128?
    /// The deposits of all its unsettled payer channels in the asset, the new one included, stay at or below this.
    public var maxTotal: UInt128?

    public init(deposit: UInt128, maxPerPeer: UInt128? = nil, maxTotal: UInt128? = nil) {
        self.deposit = deposit
        self.maxPerPeer = maxPerPeer
        self.maxTotal = maxTotal
    }
}
