public import PaymeshCrypto
public import PaymeshMessages

/// Which spending limit refused a payment (Specs/channels.md §9).
public enum PolicyLimit: String, Sendable, Hashable, CaseIterable {
    case denied          // 1202 PEER_BLACKLISTED: the payee is on the deny list
    case notAllowed      // 1202 PEER_BLACKLISTED: an allow list is set and the payee is not on it
    case maxPerPayment   // 1104 INVALID_AMOUNT
    case maxTotalPerPeer // 1104 INVALID_AMOUNT
    case maxTotal        // 1104 INVALID_AMOUNT
    case ratePerMinute   // 1504 RATE_LIMITED

    public var code: PaymeshErrorCode {
        switch self {
        case .denied, .notAllowed: .peerBlacklisted
        case .maxPerPayment, .maxTotalPerPeer, .maxTotal: .invalidAmount
        case .ratePerMinute: .rateLimited
        }
    }
}

/// The payer's spending rules, checked before anything is signed. Nil means "no limit".
/// Amounts are atomic units of the channel's asset (limits apply per asset id: keep one guard
/// per asset).
public struct SpendingPolicy: Sendable, Hashable {
    public var maxPerPayment: UInt128?
    public var maxTotalPerPeer: UInt128?
    public var maxTotal: UInt128?
    /// Payments (vouchers) allowed in any sliding window of 60,000 ms.
    public var maxPaymentsPerMinute: Int?
    /// When set, only these payees may be paid.
    public var allowList: Set<EthereumAddress>?
    public var denyList: Set<EthereumAddress>
    /// Channels the node may open by itself for an HTTP request, by (normalised) asset id; empty:
    /// none (the default). Not checked by `SpendingGuard`: the HTTP client reads it (§9.1).
    public var autoOpen: [String: AutoOpenTerms] = [:]

    public static let unlimited = SpendingPolicy()

    public init(maxPerPayment: UInt128? = nil, maxTotalPerPeer: UInt128? = nil, maxTotal: UInt128? = nil,
                maxPaymentsPerMinute: Int? = nil, allowList: Set<EthereumAddress>? = nil, denyList: Set<EthereumAddress> = []) {
        self.maxPerPayment = maxPerPayment
        self.maxTotalPerPeer = maxTotalPerPeer
        self.maxTotal = maxTotal
        self.maxPaymentsPerMinute = maxPaymentsPerMinute.map { max(0, $0) }
        self.allowList = allowList
        self.denyList = denyList
    }
}
