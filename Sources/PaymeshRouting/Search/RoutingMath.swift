/// The integer arithmetic of Specs/routing.md §3: exact, rounding down, saturating where a cost
/// (never an amount) would overflow.
enum RoutingMath {
    static let ppm: UInt128 = 1_000_000
    static let millisPerHour: UInt128 = 3_600_000

    /// fee_base + ⌊amount · fee_ppm / 10⁶⌋ (messages.md §4.8); nil on overflow.
    @inline(__always)
    static func fee(amount: UInt128, base: UInt128, ppm feePPM: UInt64) -> UInt128? {
        guard let proportional = mulDiv(amount, UInt128(feePPM), ppm) else { return nil }
        let (sum, o) = base.addingReportingOverflow(proportional)
        return o ? nil : sum
    }

    /// ⌊a · b / c⌋ with a 256-bit product; nil when the quotient does not fit 128 bits.
    @inline(__always)
    static func mulDiv(_ a: UInt128, _ b: UInt128, _ c: UInt128) -> UInt128? {
        // Fast path (the common case): 64-bit operands, one hardware 128-by-64 division.
        if a <= UInt128(UInt64.max), b <= UInt128(UInt64.max), c <= UInt128(UInt64.max) {
            let (high, low) = UInt64(a).multipliedFullWidth(by: UInt64(b))
            let c64 = UInt64(c)
            if high < c64 { return UInt128(c64.dividingFullWidth((high, low)).quotient) }
            return (UInt128(high) << 64 | UInt128(low)) / c
        }
        let (high, low) = a.multipliedFullWidth(by: b)
        if high == 0 { return low / c }
        guard high < c else { return nil }
        return c.dividingFullWidth((high, low)).quotient
    }

    @inline(__always)
    static func saturatingAdd(_ a: UInt128, _ b: UInt128) -> UInt128 {
        let (s, o) = a.addingReportingOverflow(b)
        return o ? .max : s
    }

    /// ⌊v · 2^(−dt/H)⌋ approximated piecewise-linearly (routing.md §5.2): halve once per whole
    /// half-life, then scale by (2H − r) / 2H for the remainder r. Exact at whole half-lives.
    static func decay(_ v: UInt64, elapsed dt: UInt64, halfLife h: UInt64) -> UInt64 {
        guard v > 0, dt > 0, h > 0 else { return h == 0 && dt > 0 ? 0 : v }
        let halvings = dt / h
        guard halvings < 64 else { return 0 }
        let r = dt % h
        let halved = UInt128(v >> halvings)
        return UInt64(mulDiv(halved, 2 * UInt128(h) - UInt128(r), 2 * UInt128(h)) ?? 0)
    }
}
