import PaymeshMessages

/// What this node requires of HTLCs it accepts and forwards (issue 10; Specs/channels.md §12).
public struct HTLCPolicy: Sendable, Hashable {
    /// At most this many HTLCs pending per channel, each direction (Lightning's default
    /// max_accepted_htlcs is 30; the wire allows 483, `MessageLimits.maxLocks`).
    public static let defaultMaxInFlight = 30
    /// Longest HTLC lifetime accepted: expiry − now ≤ this, else EXPIRY_TOO_FAR (1411). 14 days.
    public static let defaultMaxLifetimeMillis: UInt64 = 14 * 86_400_000
    /// Default forwarding expiry delta: incoming expiry − outgoing expiry ≥ this (1404). 10 minutes.
    public static let defaultExpiryDeltaMillis: UInt64 = 600_000
    /// The final hop needs at least this long before the expiry to claim (1404). 1 minute.
    public static let defaultMinFinalExpiryMillis: UInt64 = 60_000
    /// HTLC ids one channel may ever hold (its used ids are kept for its life, Specs/storage.md
    /// `htlc_used_ids`): past it the payee refuses with 1005 and the payer offers no more (1408).
    public static let defaultMaxHTLCsPerChannel = 100_000

    public var maxInFlight: Int
    /// Most value locked in pending HTLCs per channel, each direction (atomic units; nil: the deposit).
    public var maxLockedValue: UInt128?
    public var maxLifetimeMillis: UInt64
    /// Fee this node charges to forward: base + amount · ppm / 10^6, rounded down (messages.md §4.8).
    public var feeBase: UInt128
    public var feePPM: UInt64
    public var expiryDeltaMillis: UInt64
    public var minFinalExpiryMillis: UInt64
    public var maxHTLCsPerChannel: Int

    public init(maxInFlight: Int = Self.defaultMaxInFlight, maxLockedValue: UInt128? = nil,
                maxLifetimeMillis: UInt64 = Self.defaultMaxLifetimeMillis, feeBase: UInt128 = 0, feePPM: UInt64 = 0,
                expiryDeltaMillis: UInt64 = Self.defaultExpiryDeltaMillis,
                minFinalExpiryMillis: UInt64 = Self.defaultMinFinalExpiryMillis,
                maxHTLCsPerChannel: Int = Self.defaultMaxHTLCsPerChannel) {
        precondition(maxHTLCsPerChannel >= 1)
        precondition((1..<MessageLimits.maxLocks).contains(maxInFlight), "maxInFlight within the wire's locks limit")
        precondition(MessageLimits.feePPM.contains(feePPM))
        self.maxInFlight = maxInFlight
        self.maxLockedValue = maxLockedValue
        self.maxLifetimeMillis = maxLifetimeMillis
        self.feeBase = feeBase
        self.feePPM = feePPM
        self.expiryDeltaMillis = expiryDeltaMillis
        self.minFinalExpiryMillis = minFinalExpiryMillis
        self.maxHTLCsPerChannel = maxHTLCsPerChannel
    }

    /// The fee for forwarding `amount` (messages.md §4.8); nil on overflow.
    public func fee(forwarding amount: UInt128) -> UInt128? {
        Self.fee(base: feeBase, ppm: feePPM, amount: amount)
    }

    public static func fee(base: UInt128, ppm: UInt64, amount: UInt128) -> UInt128? {
        let (product, overflow) = amount.multipliedReportingOverflow(by: UInt128(ppm))
        guard !overflow else { return nil }
        let (sum, over2) = base.addingReportingOverflow(product / 1_000_000)
        return over2 ? nil : sum
    }
}
