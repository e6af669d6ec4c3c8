/// The dynamic price of a service, integer math only (Specs/negotiation.md §6): sans-IO and pure.
///
/// 1. base = the listed price clamped into [minPrice, maxPrice];
/// 2. load = max(inFlight · 10,000 / inFlightTarget, perSecond · 10,000 / rateTarget), capped at 10,000 (bps);
/// 3. loaded = base + (maxPrice − base) · load / 10,000 (rounded down);
/// 4. discount = loaded · reputationDiscountBps · reputation / 10,000 / 10,000 (reputation in bps, rounded down);
/// 5. price = max(minPrice, loaded − discount).
public enum PriceModel {
    public static let basisPoints: UInt128 = 10_000

    public static func quote(listed: UInt128, policy p: ServicePolicy, inFlight: UInt64, perSecond: UInt64,
                             reputationBps: UInt64) -> UInt128 {
        let base = min(max(listed, p.minPrice), p.maxPrice)
        let byFlight = UInt128(inFlight) * basisPoints / UInt128(p.inFlightTarget)
        let byRate = UInt128(perSecond) * basisPoints / UInt128(p.rateTarget)
        let load = min(basisPoints, max(byFlight, byRate))
        let loaded = base + mulDiv(p.maxPrice - base, load, basisPoints)
        let reputation = min(basisPoints, UInt128(reputationBps))
        let discount = mulDiv(mulDiv(loaded, UInt128(p.reputationDiscountBps), basisPoints), reputation, basisPoints)
        return max(p.minPrice, loaded - discount)
    }

    /// ⌊a · b / c⌋ without overflow (b ≤ c, so the result fits).
    static func mulDiv(_ a: UInt128, _ b: UInt128, _ c: UInt128) -> UInt128 {
        let (high, low) = a.multipliedFullWidth(by: b)
        return c.dividingFullWidth((high, low)).quotient
    }
}
