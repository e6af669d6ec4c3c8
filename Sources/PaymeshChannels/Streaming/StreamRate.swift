public import PaymeshMessages

/// A price: `price` atomic units of `asset` per one `unit` (per call, token, byte, or second).
/// Integers only: 0.5 µUSDC per token is expressed by choosing the asset's atomic unit, never by
/// a fraction.
public struct StreamRate: Sendable, Hashable {
    public var unit: UsageUnit
    public var price: UInt128
    public var asset: Asset

    public init(unit: UsageUnit, price: UInt128, asset: Asset) {
        self.unit = unit
        self.price = price
        self.asset = asset
    }

    /// price × units, nil on overflow.
    public func cost(units: UInt64) -> UInt128? {
        let (product, overflow) = price.multipliedReportingOverflow(by: UInt128(units))
        return overflow ? nil : product
    }

    /// floor(price × millis / 1000): what `millis` ms cost at a per-second price; nil on overflow.
    public func cost(millis: UInt64) -> UInt128? {
        let wide = price.multipliedFullWidth(by: UInt128(millis))
        guard wide.high < 1_000 else { return nil } // quotient would not fit 128 bits
        return UInt128(1_000).dividingFullWidth((wide.high, wide.low)).quotient
    }
}
