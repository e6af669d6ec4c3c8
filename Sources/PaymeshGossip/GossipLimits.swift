/// Wire limits of `/paymesh/gossip/1` (Specs/gossip.md §2–§7). Every number a peer could use to
/// make us allocate, loop or store is bounded here.
public enum GossipLimits {
    /// Largest frame payload (after the 4-byte length), §2.
    public static let maxFrameBytes = 65_536
    /// Largest signed body of one gossip message, §5.
    public static let maxBodyBytes = 16_384
    /// Message ids in one IHAVE or IWANT, §4.4–§4.5 (GossipSub's max_ihave_length is 5000; our
    /// messages are rarer and frames smaller).
    public static let maxIDsPerFrame = 500
    /// Topic name length, §6.
    public static let topicBytes: ClosedRange<Int> = 1...64
    /// PRUNE backoff a peer may ask for, seconds, §4.7.
    public static let pruneBackoffSeconds: ClosedRange<UInt64> = 1...3_600
    /// Messages one SYNC_REQUEST may ask for, and one answer may carry, §8.5.
    public static let syncLimit: ClosedRange<UInt64> = 1...100_000
    /// msgpack decoder limits for a frame, §3.
    static let maxDepth = 8
    static let maxElements = 4_096
}
