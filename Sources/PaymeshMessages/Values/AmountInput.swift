/// An amount as typed in a command or console call (Specs/console.md, "Amounts"):
/// - `1000000`: digits only, no asset: atomic units;
/// - `1.5USDC`, `1.5 USDC`, `2USDC`: a decimal value of the asset named after it;
/// - `1.5`: a decimal value of the asset the call names in its `asset` parameter.
/// The decimal forms are converted exactly with the asset's decimals (`Amount(decimalText:decimals:)`).
public struct AmountInput: Sendable, Hashable {
    /// The number as typed (digits, at most one point).
    public let number: String
    /// The asset id named after the number, normalised (`Asset.normalizedID`); nil when none.
    public let assetID: String?

    /// Digits only and no asset: the amount is atomic units.
    public var isAtomic: Bool { assetID == nil && !number.contains(".") }

    public init(parsing text: String) throws(MessageError) {
        let trimmed = text.trimmingASCIISpaces
        let split = trimmed.firstIndex { !($0.isASCII && ($0.isNumber || $0 == ".")) } ?? trimmed.endIndex
        number = String(trimmed[..<split])
        let suffix = String(trimmed[split...]).trimmingASCIISpaces
        guard !number.isEmpty else {
            throw .malformed("amount \"\(Amount.excerpt(text))\" does not start with a number (atomic units 1000000, or 1.5USDC)")
        }
        if suffix.isEmpty {
            assetID = nil
        } else {
            guard Asset.idBytes.contains(suffix.utf8.count), !suffix.contains(where: { $0 == " " || $0 == "," }) else {
                throw .malformed("amount \"\(Amount.excerpt(text))\": \"\(Amount.excerpt(suffix))\" is not an asset id")
            }
            assetID = Asset.normalizedID(suffix)
        }
        if isAtomic { _ = try Amount(decimal: number.dropLeadingZeros) }
    }

    /// The atomic units: digits as they are, a decimal value with `decimals` (the decimals of the
    /// asset of the call, which the caller checked against `assetID`); nil `decimals` refuses a
    /// decimal value (no asset known).
    public func atomicUnits(decimals: UInt8?) throws(MessageError) -> Amount {
        if isAtomic { return try Amount(decimal: number.dropLeadingZeros) }
        guard let decimals else {
            throw .malformed("amount \(number) needs an asset to convert (write \(number)USDC or give asset=…), or give atomic units")
        }
        return try Amount(decimalText: number, decimals: decimals)
    }
}

extension String {
    var trimmingASCIISpaces: String {
        var s = Substring(self)
        while s.first == " " || s.first == "\t" { s.removeFirst() }
        while s.last == " " || s.last == "\t" { s.removeLast() }
        return String(s)
    }

    /// "007" → "7", "0" stays "0": a typed number, not a wire amount, may carry leading zeros.
    var dropLeadingZeros: String {
        let s = drop { $0 == "0" }
        return s.isEmpty ? (isEmpty ? self : "0") : String(s)
    }
}
