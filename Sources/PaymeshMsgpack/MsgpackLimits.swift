/// Bounds enforced on untrusted input before msgpack-c allocates anything for it.
public struct MsgpackLimits: Sendable, Hashable {
    /// Maximum container nesting; the top-level map or array is depth 1.
    public var maxDepth: Int
    /// Maximum number of objects (scalars, containers, keys and values all count one each).
    public var maxElements: Int
    /// Maximum byte length of one str.
    public var maxStringLength: Int
    /// Maximum byte length of one bin or ext payload.
    public var maxBinaryLength: Int

    public init(maxDepth: Int, maxElements: Int, maxStringLength: Int, maxBinaryLength: Int) {
        self.maxDepth = maxDepth
        self.maxElements = maxElements
        self.maxStringLength = maxStringLength
        self.maxBinaryLength = maxBinaryLength
    }

    /// Defaults sized for Paymesh messages (frames ≤ 1 MiB, messages of a few dozen fields).
    public static let `default` = MsgpackLimits(
        maxDepth: 16,
        maxElements: 4_096,
        maxStringLength: 65_536,
        maxBinaryLength: 1_048_576 // = the payment frame limit (Specs/messages.md §1)
    )
}
