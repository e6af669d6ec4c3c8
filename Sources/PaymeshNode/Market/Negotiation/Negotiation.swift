public import PaymeshCrypto
public import PaymeshMessages

/// Which side of a negotiation this node is: the buyer proposes, the seller sells the service.
public enum NegotiationRole: String, Sendable, Hashable, Codable { case buyer, seller }

public enum NegotiationStatus: String, Sendable, Hashable, Codable { case open, accepted, rejected, expired }

/// One negotiation as this node sees it (Specs/negotiation.md §2).
public struct Negotiation: Sendable, Hashable {
    public let id: NegotiationID
    public let role: NegotiationRole
    public let counterpart: EthereumAddress
    /// The offer on the table (the proposal or the last counter).
    public internal(set) var terms: NegotiationTerms
    /// 0 for the proposal, +1 per counter.
    public internal(set) var round: UInt32
    /// Whether this node made the offer on the table (then only the counterpart may answer it).
    public internal(set) var offerIsOurs: Bool
    /// `.negotiatePropose` or `.negotiateCounter`: the kind of the offer on the table.
    public internal(set) var offerKind: MessageType
    public internal(set) var offerTimestamp: UInt64
    public internal(set) var offerSignature: Signature65
    public internal(set) var status: NegotiationStatus
    /// Why it was rejected (either side's reason).
    public internal(set) var reason: String?
    /// Local wall-clock ms after which no step is taken (the proposal's expiry, at most its timeout after receipt).
    public internal(set) var deadline: UInt64
    /// The buyer's rule for answering counters by itself.
    public internal(set) var buyerLimits: BuyerLimits

    /// Whose turn it is: this node's when the counterpart made the offer on the table.
    public var ourTurn: Bool { status == .open && !offerIsOurs }
}

/// What a buyer accepts without its operator (`negotiate.propose max_price= max_deposit=`): a
/// counter at or below both is accepted at once; anything else waits for `negotiate.accept`.
public struct BuyerLimits: Sendable, Hashable {
    public var maxPrice: UInt128?
    public var maxDeposit: UInt128?

    public init(maxPrice: UInt128? = nil, maxDeposit: UInt128? = nil) {
        self.maxPrice = maxPrice
        self.maxDeposit = maxDeposit
    }

    func allows(_ t: NegotiationTerms) -> Bool {
        guard let maxPrice, t.price.atomicUnits <= maxPrice else { return false }
        return t.deposit.atomicUnits <= (maxDeposit ?? 0)
    }
}

/// What a seller answers by itself for one service (from its `ServicePolicy` and current quote).
public struct SellerTerms: Sendable, Hashable {
    public var unit: String
    public var asset: Asset
    /// The lowest price it accepts.
    public var floor: UInt128
    /// The price it counters with when offered less than `floor` (its current quote, ≥ floor).
    public var quote: UInt128
    public var minDeposit: UInt128
    /// The tightest SLA it commits to: a p99 latency no lower than this (ms), an error rate no lower than this (bps).
    public var minLatencyP99Millis: UInt32
    public var minErrorRateBasisPoints: UInt16
    public var maxTermSeconds: UInt32
    /// Answer offers by itself; false: every offer waits for the operator.
    public var automatic: Bool

    public init(unit: String, asset: Asset, floor: UInt128, quote: UInt128, minDeposit: UInt128 = 0, minLatencyP99Millis: UInt32 = 0,
                minErrorRateBasisPoints: UInt16 = 0, maxTermSeconds: UInt32 = NegotiationLimits.defaultTermSeconds,
                automatic: Bool = true) {
        self.unit = unit
        self.asset = asset
        self.floor = floor
        self.quote = max(quote, floor)
        self.minDeposit = minDeposit
        self.minLatencyP99Millis = minLatencyP99Millis
        self.minErrorRateBasisPoints = minErrorRateBasisPoints
        self.maxTermSeconds = maxTermSeconds
        self.automatic = automatic
    }

    /// Whether `t` is acceptable as it is.
    func accepts(_ t: NegotiationTerms) -> Bool { adjusted(t) == t }

    /// The nearest terms this seller accepts: the price raised to the quote when below the floor,
    /// the deposit to the minimum, SLA commitments loosened to what it can keep, the term shortened.
    func adjusted(_ t: NegotiationTerms) -> NegotiationTerms {
        var c = t
        if c.price.atomicUnits < floor { c.price = Amount(quote) }
        if c.deposit.atomicUnits < minDeposit { c.deposit = Amount(minDeposit) }
        if c.latencyP99Millis != 0, c.latencyP99Millis < minLatencyP99Millis { c.latencyP99Millis = minLatencyP99Millis }
        if c.errorRateBasisPoints < minErrorRateBasisPoints { c.errorRateBasisPoints = minErrorRateBasisPoints }
        if c.termSeconds > maxTermSeconds { c.termSeconds = maxTermSeconds }
        return c
    }
}

/// Terms both parties signed (Specs/negotiation.md §3): the offer (PROPOSE or COUNTER) signed by
/// one party and the ACCEPT of it, signed by the other over the same terms and the hash of the
/// offer's signature. Anyone holding it checks both signatures (`verify`).
public struct Agreement: Sendable, Hashable {
    public var terms: NegotiationTerms
    public var round: UInt32
    public var offerKind: MessageType
    public var offerTimestamp: UInt64
    public var offerSignature: Signature65
    public var offeredBy: EthereumAddress
    public var acceptTimestamp: UInt64
    public var acceptSignature: Signature65
    public var acceptedBy: EthereumAddress

    public init(terms: NegotiationTerms, round: UInt32, offerKind: MessageType, offerTimestamp: UInt64, offerSignature: Signature65,
                offeredBy: EthereumAddress, acceptTimestamp: UInt64, acceptSignature: Signature65, acceptedBy: EthereumAddress) {
        self.terms = terms
        self.round = round
        self.offerKind = offerKind
        self.offerTimestamp = offerTimestamp
        self.offerSignature = offerSignature
        self.offeredBy = offeredBy
        self.acceptTimestamp = acceptTimestamp
        self.acceptSignature = acceptSignature
        self.acceptedBy = acceptedBy
    }

    /// Until when (wall-clock ms) the terms hold: the accept's timestamp plus the term.
    public var validUntil: UInt64 { acceptTimestamp.addingClamped(UInt64(terms.termSeconds) * 1_000) }

    public func isValid(at now: UInt64) -> Bool { now < validUntil }

    /// Throws 1101 unless the offer is signed by one party and the accept by the other (§3).
    public func verify() throws(MessageError) {
        let parties: Set<EthereumAddress> = [terms.buyer, terms.seller]
        guard parties.count == 2, parties.contains(offeredBy), parties.contains(acceptedBy), offeredBy != acceptedBy,
              offerKind == .negotiatePropose || offerKind == .negotiateCounter,
              (offerKind == .negotiatePropose) == (round == 0), offerKind != .negotiatePropose || offeredBy == terms.buyer else {
            throw MessageError(code: .invalidSignature, detail: "the agreement's parties, kind or round do not fit", refType: nil)
        }
        try terms.verify(offerSignature, step: offerKind, round: round, offerSignature: nil, timestamp: offerTimestamp, signer: offeredBy)
        try terms.verify(acceptSignature, step: .negotiateAccept, round: round, offerSignature: offerSignature,
                         timestamp: acceptTimestamp, signer: acceptedBy)
    }
}

/// What the negotiation book decides; its driver performs the actions in order (a `.store` is
/// durable before any later action is performed).
enum NegotiationAction: Sendable, Equatable {
    case send(Message, to: EthereumAddress)
    /// Make the agreement durable before anything after it (the ACCEPT goes out only after).
    case store(Agreement)
    case event(MarketEvent)
    /// A peer signed something that does not verify (1101): worth a misbehaviour report.
    case misbehaved(EthereumAddress, String)
}

/// Events of the service market (negotiations, prices, SLA), published as `NodeEvent.market`.
public enum MarketEvent: Sendable, Hashable {
    /// A negotiation was opened or got a new offer (status open), or ended (accepted, rejected, expired).
    case negotiation(NegotiationID, status: NegotiationStatus, round: UInt32, ourTurn: Bool)
    /// An agreement became durable on this node.
    case agreed(NegotiationID, service: String, buyer: EthereumAddress, seller: EthereumAddress, price: UInt128)
    /// The buyer opened the agreed channel (nil: the open failed; `negotiate.list` says why).
    case agreementChannel(NegotiationID, channel: ChannelID?)
    /// A service's quote changed (and was re-advertised when gossip runs).
    case priceChanged(service: String, price: UInt128)
    /// A violation of agreed SLA terms was recorded (durable, signed).
    case slaViolated(service: String, client: EthereumAddress, metric: String, sequence: UInt64)
}
