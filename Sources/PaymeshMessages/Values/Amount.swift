/// A non-negative count of an asset's atomic units, at most 2^128 − 1 (Specs/README.md, "Money").
///
/// On the wire: a msgpack str of ASCII decimal digits, no sign, no spaces, no leading zeros
/// ("0" for zero), at most 39 digits. Never a float.
public struct Amount: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let atomicUnits: UInt128

    /// 2^128 − 1 has 39 decimal digits.
    public static let maxDigits = 39
    public static let zero = Amount(0)

    public init(_ atomicUnits: UInt128) {
        self.atomicUnits = atomicUnits
    }

    /// Parses the canonical decimal form; anything else is a malformed message.
    public init(decimal text: String) throws(MessageError) {
        let digits = text.utf8
        guard !digits.isEmpty, digits.count <= Self.maxDigits else {
            throw .malformed("amount must have 1…\(Self.maxDigits) digits")
        }
        if digits.count > 1, digits.first == UInt8(ascii: "0") {
            throw .malformed("amount has a leading zero")
        }
        var value: UInt128 = 0
        for c in digits {
            guard c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") else {
                throw .malformed("amount has a non-digit character")
            }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt128(c - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw .malformed("amount exceeds 2^128 - 1") }
            value = sum
        }
        atomicUnits = value
    }

    /// The canonical decimal string.
    public var description: String { String(atomicUnits) }

    public static func < (lhs: Amount, rhs: Amount) -> Bool { lhs.atomicUnits < rhs.atomicUnits }
}
