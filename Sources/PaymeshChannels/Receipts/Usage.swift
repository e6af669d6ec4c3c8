/// What a stream or a receipt counts (Specs/channels.md §11).
public enum UsageUnit: String, Sendable, Hashable, Codable, CaseIterable {
    case call, token, second, byte
}

/// A quantity of usage: e.g. 1,200 tokens.
public struct Usage: Sendable, Hashable, Codable {
    public var unit: UsageUnit
    public var quantity: UInt64

    public init(unit: UsageUnit, quantity: UInt64) {
        self.unit = unit
        self.quantity = quantity
    }
}
