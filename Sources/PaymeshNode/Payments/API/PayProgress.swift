/// How far a running `pay` burst got (Specs/console.md §8, "Progress and cancellation"): reported
/// once when it starts, then each time its acknowledged payments pass another step of
/// `PayProgress.steps(count:)`, and once when it ends.
public struct PayProgress: Sendable, Equatable {
    /// The burst's id, node-wide; `cancelPay` takes it.
    public var burst: UInt64
    /// Payments asked for.
    public var count: Int
    /// Vouchers signed so far.
    public var signed: Int
    /// Payments of this burst the payees acknowledged so far.
    public var acked: Int
    /// What those acknowledged payments paid: `acked` × the increment, atomic units.
    public var ackedAmount: UInt128
    /// Since the burst started, on the node's clock.
    public var elapsedNanos: UInt64
    /// True on the last report (the call is about to return).
    public var done: Bool

    public init(burst: UInt64, count: Int, signed: Int, acked: Int, ackedAmount: UInt128, elapsedNanos: UInt64, done: Bool) {
        self.burst = burst
        self.count = count
        self.signed = signed
        self.acked = acked
        self.ackedAmount = ackedAmount
        self.elapsedNanos = elapsedNanos
        self.done = done
    }

    /// Reports per burst between its first and its last one, at most: a burst of a million payments
    /// reports every 5,000 acknowledgements, a burst of 100 every one.
    public static let maxSteps = 200

    /// Acknowledgements between two reports for a burst of `count` payments.
    public static func step(count: Int) -> Int { max(1, count / maxSteps) }
}

/// The running `pay` bursts: their waiter tokens and whether a cancel was asked (sans-IO; the
/// payments actor holds it).
struct PayBursts {
    private var running: [UInt64: (token: UInt64, cancelled: Bool)] = [:]

    mutating func started(_ burst: UInt64, token: UInt64) { running[burst] = (token, false) }
    mutating func ended(_ burst: UInt64) { running[burst] = nil }
    func isCancelled(_ burst: UInt64) -> Bool { running[burst]?.cancelled == true }

    /// Marks `burst` cancelled; its waiter token to wake, nil when no such burst runs.
    mutating func cancel(_ burst: UInt64) -> UInt64? {
        guard running[burst] != nil else { return nil }
        running[burst]!.cancelled = true
        return running[burst]!.token
    }

    var ids: [UInt64] { running.keys.sorted() }
}
