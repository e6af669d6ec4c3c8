/// A metered payment stream over one payer channel (Specs/channels.md §11): usage accrues at a
/// `StreamRate`; each step returns the increment to pay (the node passes it to
/// `PayerChannel.pay`, whose voucher carries the cumulative total). Pauses itself, paying
/// nothing, when the next increment would pass the spending cap or the channel's balance.
public struct StreamingSession: Sendable, Hashable {
    public enum Status: Sendable, Hashable {
        case running
        case paused(PauseReason)
        case stopped
    }

    public enum PauseReason: Sendable, Hashable {
        case capReached
        case channelBalance
        case byUser
        /// `PayerChannel.pay` refused the increment (policy, state).
        case paymentRefused(code: UInt16)
        case overflow
    }

    /// What to do now.
    public enum Step: Sendable, Hashable {
        case none
        /// Pay this many atomic units more (task id: `session.taskID`).
        case pay(UInt128)
        /// The session paused; `unpaid` is the cost of the usage that was not paid.
        case paused(PauseReason, unpaid: UInt128)
    }

    public let id: String
    public let rate: StreamRate
    /// Maximum total this session may pay (`setCap` changes it).
    public private(set) var cap: UInt128
    public private(set) var status: Status = .running
    /// Total paid (increments handed out as `.pay` and not refused).
    public private(set) var paid: UInt128 = 0
    /// Usage counted and paid, in `rate.unit` (seconds: whole and partial seconds as ms / 1000).
    public private(set) var paidUnits: UInt64 = 0
    /// Per-second streams: ms metered while running, and when metering last advanced.
    public private(set) var meteredMillis: UInt64 = 0
    private var lastTick: UInt64

    /// Task id the node puts in each voucher of this stream ("stream:" + id, ≤ 128 bytes).
    public var taskID: String { String(("stream:" + id).utf8.prefix(128)) ?? "stream" }

    public init(id: String, rate: StreamRate, cap: UInt128, now: UInt64) {
        self.id = id
        self.rate = rate
        self.cap = cap
        lastTick = now
    }

    /// Usage reported by the app (calls, tokens, bytes; or seconds counted by the app).
    public mutating func recordUsage(units: UInt64, now: UInt64, available: UInt128) -> Step {
        guard status == .running, units > 0 else { return .none }
        guard let cost = rate.cost(units: units) else { return pause(.overflow, unpaid: .max) }
        return charge(cost, units: units, available: available)
    }

    /// Per-second streams: bills the time since the last tick. Other units: nothing.
    public mutating func onTimerTick(now: UInt64, available: UInt128) -> Step {
        guard rate.unit == .second, status == .running, now > lastTick else { return .none }
        let (total, overflow) = meteredMillis.addingReportingOverflow(now - lastTick)
        guard !overflow, let owedTotal = rate.cost(millis: total) else { return pause(.overflow, unpaid: .max) }
        let increment = owedTotal - paid
        guard increment > 0 else {
            // Less than one atomic unit accrued: keep metering from the old tick.
            return .none
        }
        let step = charge(increment, units: 0, available: available)
        if case .pay = step {
            meteredMillis = total
            lastTick = now
            paidUnits = total / 1_000
        }
        return step
    }

    /// Undo a `.pay` that the channel refused, and pause.
    public mutating func paymentRefused(_ amount: UInt128, code: UInt16) {
        paid -= min(paid, amount)
        status = .paused(.paymentRefused(code: code))
    }

    public mutating func pause() { if status == .running { status = .paused(.byUser) } }

    /// Resumes metering from `now` (paused time is not billed).
    public mutating func resume(now: UInt64) {
        guard case .paused = status else { return }
        status = .running
        lastTick = now
    }

    public mutating func stop() { status = .stopped }

    /// Changes the cap (raised to let a session paused at its cap resume). A cap below what the
    /// session has paid already is refused: returns false and changes nothing.
    public mutating func setCap(_ newCap: UInt128) -> Bool {
        guard newCap >= paid, newCap > 0 else { return false }
        cap = newCap
        return true
    }

    private mutating func charge(_ cost: UInt128, units: UInt64, available: UInt128) -> Step {
        let (total, overflow) = paid.addingReportingOverflow(cost)
        if overflow || total > cap { return pause(.capReached, unpaid: cost) }
        if cost > available { return pause(.channelBalance, unpaid: cost) }
        paid = total
        paidUnits = paidUnits &+ units
        return .pay(cost)
    }

    private mutating func pause(_ reason: PauseReason, unpaid: UInt128) -> Step {
        status = .paused(reason)
        return .paused(reason, unpaid: unpaid)
    }
}
