/// What a metered service sells (Specs/http402.md §12): the gateway counts the upstream's answer
/// body in these units and serves it in paid steps.
public enum MeteredUnit: String, Sendable, Hashable, CaseIterable {
    /// One byte of the answer body.
    case byte
    /// One newline-delimited chunk of the answer body: the bytes up to and including a LF (0x0A),
    /// and the bytes after the last LF when there are any (§12.1).
    case token

    /// Units one step sells (§12.2): the most a client prepays before it has seen anything.
    public var stepUnits: UInt64 {
        switch self {
        case .byte: 1_024   // one step ≤ 1 KiB: a client loses at most 1 KiB worth if the answer is shorter
        case .token: 16     // one step ≤ 16 lines (NDJSON records, SSE data lines)
        }
    }

    /// The unit named by a service's or a requirement's `unit`; nil for `call` and `second`.
    public init?(unit: String) { self.init(rawValue: unit) }
}

/// An upstream answer body counted in one unit (§12.1): how many units it holds and where each
/// unit ends, so that a page of units is a byte range. Pure: the same bytes count the same.
public struct MeteredBody: Sendable, Hashable {
    public let unit: MeteredUnit
    public let bytes: [UInt8]
    /// `.token`: the exclusive end offset of each token; `.byte`: empty (unit i ends at i + 1).
    private let tokenEnds: [Int]

    public init(_ bytes: [UInt8], unit: MeteredUnit) {
        self.unit = unit
        self.bytes = bytes
        guard unit == .token else { tokenEnds = []; return }
        var ends: [Int] = []
        for (i, b) in bytes.enumerated() where b == 0x0A { ends.append(i + 1) }
        if (ends.last ?? 0) < bytes.count { ends.append(bytes.count) }
        tokenEnds = ends
    }

    /// Units in the whole body.
    public var totalUnits: UInt64 { unit == .byte ? UInt64(bytes.count) : UInt64(tokenEnds.count) }

    /// Byte offset where unit `n` starts (`n` ≤ `totalUnits`; `totalUnits` gives the body's end).
    public func offset(ofUnit n: UInt64) -> Int {
        precondition(n <= totalUnits, "unit \(n) is past the body")
        if unit == .byte { return Int(n) }
        return n == 0 ? 0 : tokenEnds[Int(n) - 1]
    }

    /// The bytes of units `from ..< to`.
    public func page(_ units: Range<UInt64>) -> ArraySlice<UInt8> {
        bytes[offset(ofUnit: units.lowerBound) ..< offset(ofUnit: units.upperBound)]
    }
}

/// Prices of metered steps (§12.2), in atomic units; nil when the product overflows 2^128 − 1.
public enum MeteredPrice {
    public static func of(units: UInt64, unitPrice: UInt128) -> UInt128? {
        let (p, overflow) = unitPrice.multipliedReportingOverflow(by: UInt128(units))
        return overflow ? nil : p
    }
}
