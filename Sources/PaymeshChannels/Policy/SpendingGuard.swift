public import PaymeshCrypto
public import PaymeshMessages

/// The payer's running totals under a `SpendingPolicy`. Shared by all channels of one asset
/// (pass it `inout` to `PayerChannel.pay`); the node persists `spentPerPeer`/`spentTotal` and
/// restores them with `init(policy:spentPerPeer:spentTotal:)`.
public struct SpendingGuard: Sendable, Hashable {
    public private(set) var policy: SpendingPolicy
    public private(set) var spentPerPeer: [EthereumAddress: UInt128]
    public private(set) var spentTotal: UInt128
    private var window: SlidingWindow?

    public init(policy: SpendingPolicy = .unlimited, spentPerPeer: [EthereumAddress: UInt128] = [:], spentTotal: UInt128 = 0) {
        self.policy = policy
        self.spentPerPeer = spentPerPeer
        self.spentTotal = spentTotal
        window = policy.maxPaymentsPerMinute.map { SlidingWindow(capacity: $0) }
    }

    /// Replaces the policy, keeping totals (and the rate window when its size is unchanged).
    public mutating func update(_ policy: SpendingPolicy) {
        if policy.maxPaymentsPerMinute != self.policy.maxPaymentsPerMinute {
            window = policy.maxPaymentsPerMinute.map { SlidingWindow(capacity: $0) }
        }
        self.policy = policy
    }

    /// Throws unless paying `amount` more to `peer` at `now` is within every limit. Changes nothing.
    public mutating func check(peer: EthereumAddress, amount: UInt128, now: UInt64) throws(ChannelError) {
        if policy.denyList.contains(peer) { throw .policy(.denied, .peerBlacklisted, "payee \(peer) is on the deny list") }
        if let allow = policy.allowList, !allow.contains(peer) {
            throw .policy(.notAllowed, .peerBlacklisted, "payee \(peer) is not on the allow list")
        }
        if let max = policy.maxPerPayment, amount > max {
            throw .policy(.maxPerPayment, .invalidAmount, "payment of \(amount) atomic units exceeds the maximum per payment, \(max)")
        }
        if let max = policy.maxTotalPerPeer, !Self.fits(spentPerPeer[peer] ?? 0, amount, max) {
            throw .policy(.maxTotalPerPeer, .invalidAmount, "payment would exceed the maximum total per peer, \(max) atomic units")
        }
        if let max = policy.maxTotal, !Self.fits(spentTotal, amount, max) {
            throw .policy(.maxTotal, .invalidAmount, "payment would exceed the maximum total, \(max) atomic units")
        }
        if window != nil, !window!.hasRoom(now: now) {
            throw .policy(.ratePerMinute, .rateLimited,
                          "more than \(policy.maxPaymentsPerMinute ?? 0) payments in 60 s")
        }
    }

    /// Counts a payment that was signed (after `check` passed).
    public mutating func record(peer: EthereumAddress, amount: UInt128, now: UInt64) {
        spentPerPeer[peer, default: 0] = Self.saturatingAdd(spentPerPeer[peer] ?? 0, amount)
        spentTotal = Self.saturatingAdd(spentTotal, amount)
        if window != nil { window!.record(now: now) }
    }

    private static func fits(_ spent: UInt128, _ amount: UInt128, _ max: UInt128) -> Bool {
        let (sum, overflow) = spent.addingReportingOverflow(amount)
        return !overflow && sum <= max
    }

    private static func saturatingAdd(_ a: UInt128, _ b: UInt128) -> UInt128 {
        let (sum, overflow) = a.addingReportingOverflow(b)
        return overflow ? .max : sum
    }
}
