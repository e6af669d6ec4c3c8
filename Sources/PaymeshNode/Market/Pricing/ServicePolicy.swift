public import PaymeshMessages

/// The operator's bounds for one service this node sells (console `service.policy`,
/// Specs/negotiation.md §6): the range its dynamic price moves in, how load and reputation move it,
/// and what the node accepts in a negotiation by itself. Stored in `<datadir>/market.json`.
public struct ServicePolicy: Sendable, Hashable, Codable {
    /// The price never goes below this (and no negotiation agrees below it), atomic units.
    public var minPrice: UInt128
    /// The price never goes above this, atomic units.
    public var maxPrice: UInt128
    /// Requests in flight at the gateway at which the load price reaches `maxPrice` (≥ 1).
    public var inFlightTarget: UInt32
    /// Paid requests per second at which the load price reaches `maxPrice` (≥ 1).
    public var rateTarget: UInt32
    /// Discount for a client with full reputation, basis points of the load price (0 … 10,000).
    public var reputationDiscountBps: UInt16
    /// Answer negotiations by itself (accept acceptable terms, counter the rest).
    public var autoNegotiate: Bool
    public var minDeposit: UInt128
    /// The tightest SLA the node commits to (see `SellerTerms`).
    public var minLatencyP99Millis: UInt32
    public var minErrorRateBps: UInt16
    public var maxTermSeconds: UInt32

    public init(minPrice: UInt128, maxPrice: UInt128, inFlightTarget: UInt32 = 64, rateTarget: UInt32 = 100,
                reputationDiscountBps: UInt16 = 0, autoNegotiate: Bool = true, minDeposit: UInt128 = 0,
                minLatencyP99Millis: UInt32 = 0, minErrorRateBps: UInt16 = 0,
                maxTermSeconds: UInt32 = NegotiationLimits.defaultTermSeconds) throws(NodeError) {
        guard minPrice > 0, minPrice <= maxPrice else { throw .invalidParams("min_price must be positive and at most max_price") }
        guard inFlightTarget >= 1, rateTarget >= 1 else { throw .invalidParams("in_flight_target and rate_target must be at least 1") }
        guard reputationDiscountBps <= 10_000 else { throw .invalidParams("reputation_discount_bps must be 0…10000") }
        guard NegotiationLimits.latencyMillis.contains(UInt64(minLatencyP99Millis)) else { throw .invalidParams("min_latency_ms above 86400000") }
        guard minErrorRateBps <= 10_000 else { throw .invalidParams("min_error_rate_bps must be 0…10000") }
        guard NegotiationLimits.termSeconds.contains(UInt64(maxTermSeconds)) else { throw .invalidParams("max_term must be 1…31536000 s") }
        self.minPrice = minPrice
        self.maxPrice = maxPrice
        self.inFlightTarget = inFlightTarget
        self.rateTarget = rateTarget
        self.reputationDiscountBps = reputationDiscountBps
        self.autoNegotiate = autoNegotiate
        self.minDeposit = minDeposit
        self.minLatencyP99Millis = minLatencyP99Millis
        self.minErrorRateBps = minErrorRateBps
        self.maxTermSeconds = maxTermSeconds
    }

    /// The policy of a service the operator gave no bounds: its listed price, fixed; negotiations
    /// accept the listed price or more and counter with it.
    public static func fixed(_ price: UInt128) -> ServicePolicy {
        // A listed price is positive (SoldService), so these bounds always pass.
        (try? ServicePolicy(minPrice: max(price, 1), maxPrice: max(price, 1)))!
    }

    enum CodingKeys: String, CodingKey {
        case minPrice, maxPrice, inFlightTarget, rateTarget, reputationDiscountBps, autoNegotiate, minDeposit,
             minLatencyP99Millis, minErrorRateBps, maxTermSeconds
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func amount(_ k: CodingKeys) throws -> UInt128 {
            guard let v = UInt128(try c.decode(String.self, forKey: k)) else {
                throw DecodingError.dataCorruptedError(forKey: k, in: c, debugDescription: "not an amount")
            }
            return v
        }
        try self.init(minPrice: amount(.minPrice), maxPrice: amount(.maxPrice), inFlightTarget: c.decode(UInt32.self, forKey: .inFlightTarget),
                      rateTarget: c.decode(UInt32.self, forKey: .rateTarget),
                      reputationDiscountBps: c.decode(UInt16.self, forKey: .reputationDiscountBps),
                      autoNegotiate: c.decode(Bool.self, forKey: .autoNegotiate), minDeposit: amount(.minDeposit),
                      minLatencyP99Millis: c.decode(UInt32.self, forKey: .minLatencyP99Millis),
                      minErrorRateBps: c.decode(UInt16.self, forKey: .minErrorRateBps),
                      maxTermSeconds: c.decode(UInt32.self, forKey: .maxTermSeconds))
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(String(minPrice), forKey: .minPrice)
        try c.encode(String(maxPrice), forKey: .maxPrice)
        try c.encode(inFlightTarget, forKey: .inFlightTarget)
        try c.encode(rateTarget, forKey: .rateTarget)
        try c.encode(reputationDiscountBps, forKey: .reputationDiscountBps)
        try c.encode(autoNegotiate, forKey: .autoNegotiate)
        try c.encode(String(minDeposit), forKey: .minDeposit)
        try c.encode(minLatencyP99Millis, forKey: .minLatencyP99Millis)
        try c.encode(minErrorRateBps, forKey: .minErrorRateBps)
        try c.encode(maxTermSeconds, forKey: .maxTermSeconds)
    }
}
