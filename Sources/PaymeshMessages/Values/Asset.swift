/// An asset: a short identifier ("USDC") and the number of decimals of its atomic unit.
/// On the wire as two sibling fields, `asset` (str) and `decimals` (uint).
public struct Asset: Sendable, Hashable, CustomStringConvertible {
    public static let idBytes: ClosedRange<Int> = 1...32 // Specs/README.md, "Money"
    public static let decimalsRange: ClosedRange<UInt8> = 0...36

    public let id: String
    public let decimals: UInt8

    public init(id: String, decimals: UInt8) throws(MessageError) {
        guard Self.idBytes.contains(id.utf8.count) else { throw .malformed("asset id must be 1…32 bytes") }
        guard Self.decimalsRange.contains(decimals) else { throw .malformed("asset decimals must be 0…36") }
        self.id = id
        self.decimals = decimals
    }

    public var description: String { "\(id)/\(decimals)" }

    /// The form a node keys its asset registry and wallets by (Specs/README.md, "Money"): ASCII
    /// letters upper-cased, surrounding spaces removed; other characters kept ("usdc" → "USDC").
    public static func normalizedID(_ id: String) -> String {
        String(String.UnicodeScalarView(id.trimmingASCIISpaces.unicodeScalars.map { s in
            s.isASCII && s.properties.isLowercase ? Unicode.Scalar(s.value - 32)! : s
        }))
    }

    /// Whether `id` is already in its normalised form.
    public var hasNormalizedID: Bool { Self.normalizedID(id) == id }
}
