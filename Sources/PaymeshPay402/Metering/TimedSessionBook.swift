public import PaymeshMessages

/// Why a per-second answer ended (the `Paymesh-End` trailer, Specs/http402.md §12.6).
public enum TimedEnd: String, Sendable, Hashable {
    /// The upstream's answer ended while paid time remained.
    case complete
    /// Paid time ran out and no top-up came within the grace.
    case unpaid
    /// The session reached its bound (`maxSeconds` of paid time, or `maxHeldBytes` held during a grace).
    case limit
    /// The upstream failed or closed before the end of its answer.
    case upstreamFailed = "upstream-failed"
}

/// The gateway's per-second answers in flight (Specs/http402.md §12.6), sans-IO: the driver passes
/// the node's monotonic time in milliseconds and asks, for each piece of the upstream's answer and
/// at each deadline, whether it may be forwarded. Paid time starts when the upstream call starts
/// and grows by one step for each paid top-up. Nothing that arrives after the paid time is
/// forwarded unless a top-up pays for it within `graceMillis`; during the grace the upstream's
/// output is held (at most `maxHeldBytes`). Bounded: `maxSessions` sessions, `maxSeconds` of paid
/// time per session, one top-up of a session at a time.
public struct TimedSessionBook: Sendable {
    public static let maxSessions = 256
    /// One hour of paid time per answer at most: then the answer ends with `limit`.
    public static let maxSeconds: UInt64 = 3_600
    /// How long the upstream is kept (its output held, not forwarded) after the paid time, waiting for a top-up.
    public static let graceMillis: UInt64 = 1_000
    /// Output held during a grace; more ends the answer with `limit`.
    public static let maxHeldBytes = 1_024 * 1_024
    /// Seconds a step buys unless the gateway is configured otherwise (1 … 60).
    public static let defaultStepSeconds: UInt64 = 10
    public static let stepSecondsRange: ClosedRange<UInt64> = 1 ... 60

    public struct Session: Sendable, Hashable {
        public var channel: ChannelID
        public var service: String
        public var method: String
        public var path: String
        public var unitPrice: UInt128
        public var stepSeconds: UInt64
        /// When the upstream call started (ms on the node's monotonic clock).
        public var startMillis: UInt64
        public var paidSeconds: UInt64
        /// Bytes of upstream output held (arrived after the paid time, within the grace).
        public var heldBytes = 0
        /// A top-up is being verified: the answer is not ended as unpaid meanwhile.
        public var busy = false

        public init(channel: ChannelID, service: String, method: String, path: String, unitPrice: UInt128, stepSeconds: UInt64,
                    startMillis: UInt64) {
            self.channel = channel
            self.service = service
            self.method = method
            self.path = path
            self.unitPrice = unitPrice
            self.stepSeconds = stepSeconds
            self.startMillis = startMillis
            paidSeconds = stepSeconds
        }

        /// The end of the paid time, ms.
        public var paidUntil: UInt64 { startMillis + paidSeconds * 1_000 }
        /// The last moment a top-up is taken for this answer, ms.
        public var graceUntil: UInt64 { paidUntil + TimedSessionBook.graceMillis }
        /// The price of one step (checked by `service.add` not to overflow).
        public var stepPrice: UInt128 { MeteredPrice.of(units: stepSeconds, unitPrice: unitPrice) ?? .max }
    }

    /// What to do with upstream output, or at a deadline.
    public enum Decision: Sendable, Hashable {
        /// Forward (and first forward anything held): paid until `until` (ms).
        case forward(until: UInt64)
        /// Hold the output; wake at `until` (ms) to decide again.
        case hold(until: UInt64)
        /// End the answer now (close the upstream) with this reason.
        case stop(TimedEnd)
    }

    private var sessions: [String: Session] = [:]

    public init() {}

    public var count: Int { sessions.count }
    public func session(_ token: String) -> Session? { sessions[token] }

    /// Keeps a new answer under `token`; false when `maxSessions` are in flight (the request is
    /// refused before its proof is verified) or the token is taken.
    public mutating func open(_ token: String, _ session: Session) -> Bool {
        guard sessions.count < Self.maxSessions, sessions[token] == nil,
              Self.stepSecondsRange.contains(session.stepSeconds) else { return false }
        sessions[token] = session
        return true
    }

    /// The upstream call starts now: paid time is counted from here (§12.6).
    public mutating func start(_ token: String, now: UInt64) { sessions[token]?.startMillis = now }

    /// Whether `bytes` of upstream output arriving at `now` may be forwarded (§12.6).
    public mutating func onOutput(_ token: String, bytes: Int, now: UInt64) -> Decision {
        guard var s = sessions[token] else { return .stop(.unpaid) }
        if now < s.paidUntil, s.heldBytes == 0 { return .forward(until: s.paidUntil) }
        switch decide(s, now: now) {
        case .forward(let until):
            return .forward(until: until) // the driver forwards what it held first, then `release`s
        case .hold(let until):
            guard s.heldBytes + bytes <= Self.maxHeldBytes else { return .stop(.limit) }
            s.heldBytes += bytes
            sessions[token] = s
            return .hold(until: until)
        case .stop(let end):
            return .stop(end)
        }
    }

    /// At a deadline (or when a top-up finished): forward again, keep holding, or stop.
    public func onTimer(_ token: String, now: UInt64) -> Decision {
        guard let s = sessions[token] else { return .stop(.unpaid) }
        return decide(s, now: now)
    }

    /// The held output went out (the paid time covers it).
    public mutating func release(_ token: String) { sessions[token]?.heldBytes = 0 }

    private func decide(_ s: Session, now: UInt64) -> Decision {
        if now < s.paidUntil { return .forward(until: s.paidUntil) }
        if s.paidSeconds >= Self.maxSeconds, !s.busy { return .stop(.limit) }
        if now < s.graceUntil || s.busy { return .hold(until: max(now, s.graceUntil)) }
        return .stop(.unpaid)
    }

    /// A top-up for `token` (§12.6 step 1): the session, marked busy until `finishTopUp`; nil when
    /// unknown or ended, of another service, method or target, past its grace, already being
    /// topped up, or at `maxSeconds`.
    public mutating func beginTopUp(_ token: String, service: String, method: String, path: String, now: UInt64) -> Session? {
        guard var s = sessions[token], !s.busy, s.service == service, s.method == method, s.path == path,
              now < s.graceUntil, s.paidSeconds + s.stepSeconds <= Self.maxSeconds else { return nil }
        s.busy = true
        sessions[token] = s
        return s
    }

    /// Ends the top-up `beginTopUp` started: `paid` adds one step of paid time. The new session.
    @discardableResult
    public mutating func finishTopUp(_ token: String, paid: Bool) -> Session? {
        guard var s = sessions[token] else { return nil }
        s.busy = false
        if paid { s.paidSeconds += s.stepSeconds }
        sessions[token] = s
        return s
    }

    /// The answer ended: its token is forgotten (a later top-up is 1326, nothing taken).
    public mutating func close(_ token: String) { sessions[token] = nil }
}
