public import PaymeshCrypto
public import PaymeshMessages
public import PaymeshOnion

/// A route from the payer to the payee (Specs/routing.md §4): what the onion's hop payloads need.
public struct Route: Sendable, Hashable {
    /// One channel of the route and the node it reaches.
    public struct Hop: Sendable, Hashable {
        /// The node this hop reaches (its onion layer is encrypted to this node's key).
        public let nodeID: EthereumAddress
        /// The channel from the previous node (its payer end) to `nodeID`.
        public let channelID: ChannelID
        /// The HTLC amount locked on `channelID`.
        public let amount: Amount
        /// The HTLC's absolute expiry on `channelID` (unix ms).
        public let expiry: UInt64
        /// What `nodeID` keeps for forwarding (amount − next hop's amount); zero at the payee.
        public let fee: Amount
        /// The expiry delta `nodeID` requires on its outgoing channel (0 at the payee).
        public let expiryDeltaMillis: UInt64

        public init(nodeID: EthereumAddress, channelID: ChannelID, amount: Amount, expiry: UInt64, fee: Amount, expiryDeltaMillis: UInt64) {
            self.nodeID = nodeID
            self.channelID = channelID
            self.amount = amount
            self.expiry = expiry
            self.fee = fee
            self.expiryDeltaMillis = expiryDeltaMillis
        }
    }

    public let source: EthereumAddress
    public let hops: [Hop]
    /// The search cost (routing.md §3.2): fees + lock risk + reputation penalties, atomic units.
    public let cost: UInt128

    public init(source: EthereumAddress, hops: [Hop], cost: UInt128) {
        precondition(!hops.isEmpty, "a route has at least one hop")
        self.source = source
        self.hops = hops
        self.cost = cost
    }

    public var target: EthereumAddress { hops[hops.count - 1].nodeID }
    /// What the payee receives.
    public var amount: Amount { hops[hops.count - 1].amount }
    /// What the payer locks on its first channel.
    public var totalAmount: Amount { hops[0].amount }
    public var totalFees: Amount { Amount(hops[0].amount.atomicUnits - amount.atomicUnits) }
    /// The first HTLC's expiry: the longest the payer's money can be locked.
    public var expiry: UInt64 { hops[0].expiry }
    public var channelIDs: [ChannelID] { hops.map(\.channelID) }

    /// The onion payloads, hop by hop (onion.md §6): each forwarding node gets the next channel,
    /// the amount to lock on it and its expiry; the payee gets amount, expiry, total and hash
    /// (and the preimage for a spontaneous payment).
    public func hopPayloads(paymentHash: Hash32, totalAmount: Amount? = nil, preimage: Hash32? = nil) -> [HopPayload] {
        hops.indices.map { i in
            if i + 1 < hops.count {
                let next = hops[i + 1]
                return .forward(.init(nextChannel: next.channelID, amountToForward: next.amount, outgoingExpiry: next.expiry))
            }
            let last = hops[i]
            return .final(.init(amount: last.amount, expiry: last.expiry, totalAmount: totalAmount ?? last.amount,
                                paymentHash: paymentHash, preimage: preimage))
        }
    }
}
