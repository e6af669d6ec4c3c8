public import PaymeshPay402

/// Which L402 challenge an unpaid request to a service gets (Specs/http402.md §10.1), sans-IO: the
/// offer minted for that service is handed out again while it is younger than `reuseMillis` and its
/// invoice is still open, so a client that GETs in a loop costs the node no new invoice. A new
/// invoice is minted only when the service's offer is older than that or was paid; unpaid invoices
/// outstanding are therefore at most `services × invoiceExpiry / reuse`.
public struct L402OfferBook: Sendable {
    /// An L402 challenge for one service and when it was minted (unix ms).
    public struct Offer: Sendable, Hashable {
        public var challenge: L402Challenge
        public var paymentHash: [UInt8]
        public var mintedAt: UInt64
    }

    public enum Decision: Sendable, Hashable {
        /// Hand out this offer again once its invoice is confirmed open.
        case reuse(Offer)
        /// Mint a new offer (and then `record` it).
        case mint
    }

    public let reuseMillis: UInt64
    /// At most this many services have an offer (one per service of the catalog).
    public let capacity: Int
    private var offers: [String: Offer] = [:]

    public init(reuseMillis: UInt64, capacity: Int) {
        self.reuseMillis = reuseMillis
        self.capacity = capacity
    }

    public var count: Int { offers.count }

    public func decide(service: String, now: UInt64) -> Decision {
        guard let offer = offers[service], now >= offer.mintedAt, now - offer.mintedAt < reuseMillis else { return .mint }
        return .reuse(offer)
    }

    /// Keeps `offer` as the service's current one; past `capacity` the oldest offer is forgotten.
    public mutating func record(_ offer: Offer, service: String) {
        if offers[service] == nil, offers.count >= capacity,
           let oldest = offers.min(by: { $0.value.mintedAt < $1.value.mintedAt })?.key {
            offers[oldest] = nil
        }
        offers[service] = offer
    }

    /// The offer's invoice was paid (or is no longer open): the next request gets a new one.
    public mutating func retire(paymentHash: [UInt8]) {
        for (service, offer) in offers where offer.paymentHash == paymentHash { offers[service] = nil }
    }
}
