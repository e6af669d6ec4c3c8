/// The buying side of a metered answer (Specs/http402.md §12.4), sans-IO: after each paid page the
/// gateway's headers say what remains and what the next step costs; this decides whether to pay it.
/// It never lets the total go above the cap, and never pays a step above the rate the gateway
/// offered (`extra.unitPrice` × at most `extra.step` units, and no more units than remain).
public struct MeteredPurchase: Sendable, Hashable {
    public enum Next: Sendable, Hashable {
        /// Pay `price` for the page behind `token`.
        case pay(price: UInt128, token: String)
        /// The answer is complete.
        case done
        /// Stop before the end: the answer stays partial (`reason` says why; nothing more is paid).
        case stop(String)
    }

    public let unit: String
    public let step: UInt64
    public let unitPrice: UInt128
    /// The most the whole answer may cost (`max_price`), atomic units.
    public let cap: UInt128
    public private(set) var paid: UInt128 = 0
    /// Units received so far, and the answer's total as the gateway counts it.
    public private(set) var units: UInt64 = 0
    public private(set) var total: UInt64 = 0

    /// The metered terms of a chosen requirement (§12.2); nil when it is not metered or its `extra`
    /// is not consistent (`amount` must be `step` × `unitPrice`).
    public init?(_ requirements: PaymentRequirements, cap: UInt128) {
        let extra = requirements.extra
        guard MeteredUnit(unit: extra.unit) != nil, let stepText = extra.step, let step = UInt64(stepText), step > 0,
              String(step) == stepText, let priceText = extra.unitPrice, let unitPrice = UInt128(priceText), unitPrice > 0,
              String(unitPrice) == priceText, MeteredPrice.of(units: step, unitPrice: unitPrice) == requirements.amount else { return nil }
        unit = extra.unit
        self.step = step
        self.unitPrice = unitPrice
        self.cap = cap
    }

    /// The state journalled before a crash (Specs/http402.md §12.4): what was paid and received.
    public mutating func resume(paid: UInt128, units: UInt64, total: UInt64) {
        self.paid = paid
        self.units = units
        self.total = total
    }

    /// Records one paid page (`price` paid for it; `headers` its answer's) and decides the next step.
    public mutating func onPage(price: UInt128, headers: [HTTPHeaderField]) -> Next {
        paid += price
        func value(_ name: String) -> String? { headers.values(named: name).first }
        guard let count = value(MeteredHeader.units).flatMap(UInt64.init), let from = value(MeteredHeader.unitsFrom).flatMap(UInt64.init),
              let total = value(MeteredHeader.unitsTotal).flatMap(UInt64.init), from == units, count <= total - min(total, from) else {
            return .stop("the gateway's page does not say which units it holds")
        }
        units += count
        self.total = total
        guard let token = value(MeteredHeader.continue) else {
            return units == total ? .done : .stop("the gateway offers no continuation for the remaining \(total - units) \(unit)s")
        }
        guard let next = value(MeteredHeader.nextPrice).flatMap(UInt128.init), next > 0 else {
            return .stop("the gateway's next price is not a number")
        }
        let remaining = total - units
        guard remaining > 0, let fair = MeteredPrice.of(units: min(step, remaining), unitPrice: unitPrice), next <= fair else {
            return .stop("the gateway asks \(next) for the next step, above its rate of \(unitPrice) per \(unit)")
        }
        guard next <= cap - min(cap, paid) else {
            return .stop("the next step (\(next)) would take the total above the cap \(cap); \(remaining) \(unit)s not bought")
        }
        return .pay(price: next, token: token)
    }
}
