public import PaymeshCrypto

/// Limits and defaults of the Paymesh extension fields of NEGOTIATE_* (Specs/messages.md §4.9.1).
public enum NegotiationLimits {
    /// `unit`, bytes ("call", "token", "second", "byte").
    public static let unitBytes: ClosedRange<Int> = 1...16
    public static let defaultUnit = "call"
    /// `latency_p99_ms`: 0 (no commitment) … 1 day.
    public static let latencyMillis: ClosedRange<UInt64> = 0...86_400_000
    /// `error_rate_bps`: basis points of failed upstream calls, 0 … 10,000 (10,000: no commitment).
    public static let errorRateBasisPoints: ClosedRange<UInt64> = 0...10_000
    public static let noErrorRateCommitment: UInt16 = 10_000
    /// `term`: how long agreed terms hold after the accept, 1 s … 365 days (default 30 days).
    public static let termSeconds: ClosedRange<UInt64> = 1...31_536_000
    public static let defaultTermSeconds: UInt32 = 2_592_000
    /// `round`: 0 is the proposal, each counter adds 1 (§4.9.2).
    public static let rounds: ClosedRange<UInt64> = 0...16

    static func check(unit: String, latency: UInt32, errorRate: UInt16, term: UInt32, type: MessageType) throws(MessageError) {
        try require(unitBytes.containsLength(of: unit), type, "unit must be 1…16 bytes")
        try require(latencyMillis.contains(UInt64(latency)), type, "latency_p99_ms above 86400000")
        try require(errorRateBasisPoints.contains(UInt64(errorRate)), type, "error_rate_bps above 10000")
        try require(termSeconds.contains(UInt64(term)), type, "term outside 1…31536000 s")
    }
}

/// The terms a negotiation step offers or accepts (Specs/messages.md §5.9): what `NegotiationStep`
/// signs, and what an accepted negotiation binds between `buyer` (the proposer) and `seller`.
public struct NegotiationTerms: Sendable, Hashable {
    public var negotiationID: NegotiationID
    public var buyer: EthereumAddress
    public var seller: EthereumAddress
    public var service: String
    /// Price of one `unit`, atomic units of `asset`.
    public var price: Amount
    public var unit: String
    public var asset: Asset
    /// Deposit of the channel the buyer opens to pay for the service.
    public var deposit: Amount
    public var latencyP99Millis: UInt32
    public var errorRateBasisPoints: UInt16
    public var termSeconds: UInt32
    /// The proposal's `timestamp` + `timeout` (ms): no step is taken after it.
    public var expiresAt: UInt64

    public init(negotiationID: NegotiationID, buyer: EthereumAddress, seller: EthereumAddress, service: String, price: Amount,
                unit: String, asset: Asset, deposit: Amount, latencyP99Millis: UInt32, errorRateBasisPoints: UInt16,
                termSeconds: UInt32, expiresAt: UInt64) {
        self.negotiationID = negotiationID
        self.buyer = buyer
        self.seller = seller
        self.service = service
        self.price = price
        self.unit = unit
        self.asset = asset
        self.deposit = deposit
        self.latencyP99Millis = latencyP99Millis
        self.errorRateBasisPoints = errorRateBasisPoints
        self.termSeconds = termSeconds
        self.expiresAt = expiresAt
    }

    public static let eip712EncodeType = "NegotiationStep(bytes16 negotiationId,uint8 step,uint32 round,address buyer,address seller,"
        + "string service,uint256 price,string unit,string asset,uint8 decimals,uint256 deposit,uint32 latencyP99Ms,"
        + "uint32 errorRateBps,uint32 term,uint64 expiresAt,bytes32 offerSignatureHash,uint64 timestamp)"
    public static let eip712TypeHash = Keccak256.hash(Array(eip712EncodeType.utf8))

    /// keccak256 of the 65 signature bytes of the offer an ACCEPT accepts; 32 zero bytes otherwise.
    public static func offerSignatureHash(_ offer: Signature65?) -> [UInt8] {
        offer.map { Keccak256.hash($0.bytes) } ?? [UInt8](repeating: 0, count: 32)
    }

    /// hashStruct(NegotiationStep) for the step `step` (the message type, 9…12) at `round`.
    public func structHash(step: MessageType, round: UInt32, offerSignature: Signature65?, timestamp: UInt64) -> [UInt8] {
        var words = EIP712Words(typeHash: Self.eip712TypeHash, memberCount: 17)
        words.hashedWord(negotiationID.bytes + [UInt8](repeating: 0, count: 16)) // bytes16: left-aligned
        words.uint(UInt64(step.rawValue))
        words.uint(UInt64(round))
        words.address(buyer)
        words.address(seller)
        words.string(service)
        words.uint(price.atomicUnits)
        words.string(unit)
        words.string(asset.id)
        words.uint(UInt64(asset.decimals))
        words.uint(deposit.atomicUnits)
        words.uint(UInt64(latencyP99Millis))
        words.uint(UInt64(errorRateBasisPoints))
        words.uint(UInt64(termSeconds))
        words.uint(expiresAt)
        words.hashedWord(Self.offerSignatureHash(offerSignature))
        words.uint(timestamp)
        return words.hash()
    }

    /// The EIP-712 digest of a step, in the chainless domain `EIP712Domain(string name,string version)`.
    public func signingDigest(step: MessageType, round: UInt32, offerSignature: Signature65?, timestamp: UInt64) -> [UInt8] {
        SigningDomain.announcement.digest(structHash: structHash(step: step, round: round, offerSignature: offerSignature, timestamp: timestamp))
    }

    /// `key`'s signature of a step; 1502 when `key` is neither the buyer nor the seller.
    public func sign(step: MessageType, round: UInt32, offerSignature: Signature65?, timestamp: UInt64,
                     with key: IdentityKey) throws(MessageError) -> Signature65 {
        guard key.address == buyer || key.address == seller else {
            throw .wrongSigningKey("signing key is neither the buyer nor the seller", type: step)
        }
        return try Signature65.sign(digest: signingDigest(step: step, round: round, offerSignature: offerSignature, timestamp: timestamp),
                                    with: key, type: step)
    }

    /// Throws 1101 INVALID_SIGNATURE unless `signature` over the step was made by `signer`.
    public func verify(_ signature: Signature65, step: MessageType, round: UInt32, offerSignature: Signature65?, timestamp: UInt64,
                       signer: EthereumAddress) throws(MessageError) {
        try signature.verify(digest: signingDigest(step: step, round: round, offerSignature: offerSignature, timestamp: timestamp),
                             expected: signer, type: step, field: "signature", role: signer == buyer ? "buyer" : "seller")
    }
}
