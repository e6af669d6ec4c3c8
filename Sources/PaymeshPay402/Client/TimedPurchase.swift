/// The buying side of a per-second answer (Specs/http402.md §12.6), sans-IO: time is the buyer's
/// own, in milliseconds since it sent the first request (earlier than the gateway's start, so the
/// buyer's count of elapsed time runs ahead of the gateway's and it tops up early, never late).
/// It pays one step at a time, when less than half a step of paid time remains, never above the
/// cap and never above the rate the gateway offered (`extra.unitPrice` × `extra.step`).
public struct TimedPurchase: Sendable, Hashable {
    public enum Next: Sendable, Hashable {
        /// Pay `price` now (a top-up under `token`).
        case pay(price: UInt128, token: String)
        /// Nothing to pay before `elapsed` (ms since the first request).
        case wait(until: UInt64)
        /// Pay nothing more (`reason` says why); the gateway ends the answer when paid time runs out.
        case stop(String)
    }

    public let step: UInt64
    public let unitPrice: UInt128
    public let stepPrice: UInt128
    /// The most the whole answer may cost (`max_price`), atomic units.
    public let cap: UInt128
    public private(set) var paid: UInt128 = 0
    public private(set) var secondsPaid: UInt64 = 0
    private var token: String?
    private var stopped: String?

    /// The per-second terms of a chosen requirement (§12.6); nil when it is not per-second or its
    /// `extra` is not consistent (`amount` must be `step` × `unitPrice`).
    public init?(_ requirements: PaymentRequirements, cap: UInt128) {
        let extra = requirements.extra
        guard extra.unit == "second", let stepText = extra.step, let step = UInt64(stepText), step > 0, String(step) == stepText,
              let priceText = extra.unitPrice, let unitPrice = UInt128(priceText), unitPrice > 0, String(unitPrice) == priceText,
              let stepPrice = MeteredPrice.of(units: step, unitPrice: unitPrice), stepPrice == requirements.amount else { return nil }
        self.step = step
        self.unitPrice = unitPrice
        self.stepPrice = stepPrice
        self.cap = cap
    }

    /// The head of the answer to the first (paid) request: `price` was paid for it.
    public mutating func onHead(price: UInt128, headers: [HTTPHeaderField]) {
        paid += price
        func value(_ name: String) -> String? { headers.values(named: name).first }
        guard let seconds = value(TimedHeader.secondsPaid).flatMap(UInt64.init), seconds == step,
              value(TimedHeader.step).flatMap(UInt64.init) == step else {
            stopped = "the gateway's answer does not say the paid time of its \(step)-second step"
            return
        }
        secondsPaid = seconds
        guard let token = value(MeteredHeader.continue) else { stopped = "the gateway offers no top-up"; return }
        guard value(MeteredHeader.nextPrice).flatMap(UInt128.init) == stepPrice else {
            stopped = "the gateway asks \(value(MeteredHeader.nextPrice) ?? "nothing") for a step, not its offered \(stepPrice)"
            return
        }
        self.token = token
    }

    /// A top-up answer: `price` was paid (the gateway's receipt came back) when `accepted`.
    public mutating func onTopUp(price: UInt128, accepted: Bool, headers: [HTTPHeaderField]) {
        guard accepted else {
            stopped = "the gateway refused a top-up (\(headers.values(named: Pay402Header.errorCode).first ?? "no code"))"
            return
        }
        paid += price
        guard let seconds = headers.values(named: TimedHeader.secondsPaid).first.flatMap(UInt64.init), seconds == secondsPaid + step else {
            secondsPaid += step
            stopped = "the gateway's top-up answer does not say the paid time"
            return
        }
        secondsPaid = seconds
    }

    /// The answer ended (its body is complete): nothing more is paid.
    public mutating func onEnd() { stopped = stopped ?? "ended" }

    /// What to do at `elapsed` ms since the first request was sent.
    public func next(elapsed: UInt64) -> Next {
        if let stopped { return .stop(stopped) }
        guard let token else { return .stop("no top-up offered") }
        let due = (secondsPaid * 1_000).subtractingClamped(step * 500)
        guard elapsed >= due else { return .wait(until: due) }
        guard stepPrice <= cap - min(cap, paid) else {
            return .stop("the next step (\(stepPrice)) would take the total above the cap \(cap)")
        }
        return .pay(price: stepPrice, token: token)
    }
}

extension UInt64 {
    fileprivate func subtractingClamped(_ other: UInt64) -> UInt64 { other > self ? 0 : self - other }
}
