/// Amounts as people read and type them (Specs/README.md, "Money: amounts for people"): the exact
/// decimal value of atomic units under an asset's decimals, never through floating point.
extension Amount {
    /// The exact decimal value of these atomic units with `decimals` fractional digits, trailing
    /// fractional zeros dropped ("0.103533", "99999.988", "1"); `grouping` puts a comma between
    /// each group of three integer digits ("99,999.988"), for people only.
    public func decimalText(decimals: UInt8, grouping: Bool = false) -> String {
        let digits = Array(String(atomicUnits).utf8), places = Int(decimals)
        var whole: [UInt8], fraction: [UInt8]
        if digits.count > places {
            whole = Array(digits[..<(digits.count - places)])
            fraction = Array(digits[(digits.count - places)...])
        } else {
            whole = [UInt8(ascii: "0")]
            fraction = Array(repeating: UInt8(ascii: "0"), count: places - digits.count) + digits
        }
        while fraction.last == UInt8(ascii: "0") { fraction.removeLast() }
        if grouping, whole.count > 3 {
            var grouped: [UInt8] = []
            for (i, c) in whole.enumerated() {
                if i > 0, (whole.count - i) % 3 == 0 { grouped.append(UInt8(ascii: ",")) }
                grouped.append(c)
            }
            whole = grouped
        }
        let text = fraction.isEmpty ? whole : whole + [UInt8(ascii: ".")] + fraction
        return String(decoding: text, as: UTF8.self)
    }

    /// For people: the grouped decimal value and the asset id ("99,999.988 USDC").
    public func formatted(_ asset: Asset) -> String { "\(decimalText(decimals: asset.decimals, grouping: true)) \(asset.id)" }

    /// Converts a decimal value ("1.5", "42", "0.000001") exactly into atomic units of an asset
    /// with `decimals`: refused when it has more fractional digits than `decimals`, when it is not
    /// digits with at most one point (no sign, exponent or grouping), or when it passes 2^128 − 1.
    public init(decimalText text: String, decimals: UInt8) throws(MessageError) {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        let whole = parts[0], fraction = parts.count > 1 ? parts[1] : ""
        guard !whole.isEmpty, parts.count == 1 || !fraction.isEmpty,
              (whole + fraction).utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            throw .malformed("amount \"\(Self.excerpt(text))\" is not a decimal number (digits, at most one point)")
        }
        guard fraction.utf8.count <= Int(decimals) else {
            throw .malformed("amount \(Self.excerpt(text)) has \(fraction.utf8.count) decimals; the asset has \(decimals)")
        }
        var value: UInt128 = 0
        let padded = Array(whole.utf8) + Array(fraction.utf8) + Array(repeating: UInt8(ascii: "0"), count: Int(decimals) - fraction.utf8.count)
        for c in padded {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt128(c - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw .malformed("amount \(Self.excerpt(text)) exceeds 2^128 - 1 atomic units") }
            value = sum
        }
        self.init(value)
    }

    /// At most 48 characters of what someone typed, for an error message.
    static func excerpt(_ text: String) -> String { text.count <= 48 ? text : String(text.prefix(48)) + "…" }
}
