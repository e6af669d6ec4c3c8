public import PaymeshCrypto

/// A seller's signed statement that it broke agreed SLA terms (Specs/negotiation.md §7): evidence
/// the buyer shows a third party together with the agreement it refers to. EIP-712
/// `SLAViolation` in the chainless domain `EIP712Domain(string name,string version)`.
public struct SLAViolationStatement: Sendable, Hashable {
    public enum Metric: UInt8, Sendable, Hashable, Codable {
        /// 99th percentile latency of the window, ms, above the agreed `latency_p99_ms`.
        case latencyP99 = 1
        /// Upstream errors of the window, basis points of its requests, above the agreed `error_rate_bps`.
        case errorRate = 2

        public var name: String { self == .latencyP99 ? "latency_p99_ms" : "error_rate_bps" }
    }

    public var negotiationID: NegotiationID
    public var seller: EthereumAddress
    public var buyer: EthereumAddress
    public var service: String
    public var metric: Metric
    public var agreed: UInt32
    public var measured: UInt32
    /// Requests in the window measured.
    public var samples: UInt32
    /// Wall-clock ms of the window's first and last request.
    public var windowStart: UInt64
    public var windowEnd: UInt64
    /// The seller's violation counter (1, 2, …): one statement per window.
    public var sequence: UInt64
    /// keccak256(offer signature ‖ accept signature) of the agreement broken.
    public var agreementHash: [UInt8]

    public init(negotiationID: NegotiationID, seller: EthereumAddress, buyer: EthereumAddress, service: String, metric: Metric,
                agreed: UInt32, measured: UInt32, samples: UInt32, windowStart: UInt64, windowEnd: UInt64, sequence: UInt64,
                agreementHash: [UInt8]) {
        precondition(agreementHash.count == 32, "the agreement hash is 32 bytes")
        self.negotiationID = negotiationID
        self.seller = seller
        self.buyer = buyer
        self.service = service
        self.metric = metric
        self.agreed = agreed
        self.measured = measured
        self.samples = samples
        self.windowStart = windowStart
        self.windowEnd = windowEnd
        self.sequence = sequence
        self.agreementHash = agreementHash
    }

    public static func agreementHash(offerSignature: Signature65, acceptSignature: Signature65) -> [UInt8] {
        Keccak256.hash(offerSignature.bytes + acceptSignature.bytes)
    }

    public static let eip712EncodeType = "SLAViolation(bytes16 negotiationId,address seller,address buyer,string service,uint8 metric,"
        + "uint32 agreed,uint32 measured,uint32 samples,uint64 windowStart,uint64 windowEnd,uint64 sequence,bytes32 agreementHash)"
    public static let eip712TypeHash = Keccak256.hash(Array(eip712EncodeType.utf8))

    public func structHash() -> [UInt8] {
        var words = EIP712Words(typeHash: Self.eip712TypeHash, memberCount: 12)
        words.hashedWord(negotiationID.bytes + [UInt8](repeating: 0, count: 16))
        words.address(seller)
        words.address(buyer)
        words.string(service)
        words.uint(UInt64(metric.rawValue))
        words.uint(UInt64(agreed))
        words.uint(UInt64(measured))
        words.uint(UInt64(samples))
        words.uint(windowStart)
        words.uint(windowEnd)
        words.uint(sequence)
        words.hashedWord(agreementHash)
        return words.hash()
    }

    public func signingDigest() -> [UInt8] { SigningDomain.announcement.digest(structHash: structHash()) }

    /// The seller's signature (1502 when `key` is not the seller's).
    public func sign(with key: IdentityKey) throws(MessageError) -> Signature65 {
        guard key.address == seller else { throw .wrongSigningKey("only the seller signs an SLA violation", type: .negotiateAccept) }
        return try Signature65.sign(digest: signingDigest(), with: key, type: .negotiateAccept)
    }

    /// Throws 1101 unless `signature` is the seller's over this statement.
    public func verify(_ signature: Signature65) throws(MessageError) {
        try signature.verify(digest: signingDigest(), expected: seller, type: .negotiateAccept, field: "signature", role: "seller")
    }
}
