import PaymeshCrypto
public import PaymeshMessages

/// The tracker as the node keeps it across restarts (Specs/storage.md "Reputation", metadata key
/// `routing.reputation`): a fixed binary layout, big-endian, the most recently updated entries
/// first and at most `Persisted` of each kind, so the record stays small whatever the tracker holds.
///
///     "PMR1"  u32 nodes  u32 channels  u32 hints
///     nodes:    address(20) successes(u64) failures(u64) latency(u64, 2^64−1 = none) updated_at(u64)
///     channels: channel_id(32) successes(u64) failures(u64) latency(u64) updated_at(u64)
///     hints:    channel_id(32) from(20) max_sendable(u128) learned_at(u64)
extension ReputationTracker {
    /// Bounds of the persisted record (≈ 52 + 64 + 76 bytes per entry: at most ≈ 360 KB).
    public enum Persisted {
        public static let maxNodes = 1_000
        public static let maxChannels = 4_000
        public static let maxHints = 1_000
        static let magic: [UInt8] = Array("PMR1".utf8)
        static let noLatency = UInt64.max
    }

    /// The persisted record: the most recently updated entries, each kind bounded by `Persisted`.
    public func encoded() -> [UInt8] {
        let n = nodes.sorted { ($0.value.updatedAt, $1.key) > ($1.value.updatedAt, $0.key) }.prefix(Persisted.maxNodes)
        let c = channels.sorted { ($0.value.updatedAt, $1.key.description) > ($1.value.updatedAt, $0.key.description) }.prefix(Persisted.maxChannels)
        let h = hints.sorted { ($0.value.learnedAt, $1.key.channelID.description) > ($1.value.learnedAt, $0.key.channelID.description) }.prefix(Persisted.maxHints)
        var out = Persisted.magic
        Self.put32(&out, n.count); Self.put32(&out, c.count); Self.put32(&out, h.count)
        for (id, r) in n { out += id.bytes; Self.put(&out, r) }
        for (id, r) in c { out += id.bytes; Self.put(&out, r) }
        for (d, hint) in h {
            out += d.channelID.bytes
            out += d.from.bytes
            Self.put64(&out, UInt64(truncatingIfNeeded: hint.maxSendable >> 64))
            Self.put64(&out, UInt64(truncatingIfNeeded: hint.maxSendable))
            Self.put64(&out, hint.learnedAt)
        }
        return out
    }

    /// Reads a persisted record back; anything malformed (wrong magic, counts beyond the bounds,
    /// a length that does not match) is refused whole.
    public init(decoding bytes: [UInt8], parameters: RoutingParameters = RoutingParameters()) throws(RoutingError) {
        self.init(parameters: parameters)
        var r = Reader(bytes: bytes)
        guard try r.take(4) == Persisted.magic else { throw .reputationMalformed("not a PMR1 record") }
        let n = try r.u32()
        let c = try r.u32()
        let h = try r.u32()
        guard n <= Persisted.maxNodes, c <= Persisted.maxChannels, h <= Persisted.maxHints else {
            throw .reputationMalformed("\(n) nodes, \(c) channels, \(h) hints exceed the bounds")
        }
        guard bytes.count == 16 + n * 52 + c * 64 + h * 76 else { throw .reputationMalformed("length \(bytes.count) does not match the counts") }
        do {
            for _ in 0..<n {
                let id = try EthereumAddress(try r.take(20))
                nodes[id] = try r.record()
            }
            for _ in 0..<c {
                let id = try ChannelID(try r.take(32))
                channels[id] = try r.record()
            }
            for _ in 0..<h {
                let channel = try ChannelID(try r.take(32))
                let from = try EthereumAddress(try r.take(20))
                let high = UInt128(try r.u64())
                let low = UInt128(try r.u64())
                let learnedAt = try r.u64()
                hints[DirectedChannel(channelID: channel, from: from)] = LiquidityHint(maxSendable: high << 64 | low, learnedAt: learnedAt)
            }
        } catch let error as RoutingError { throw error } catch { throw .reputationMalformed("\(error)") }
    }

    private static func put(_ out: inout [UInt8], _ r: Record) {
        put64(&out, r.successes); put64(&out, r.failures); put64(&out, r.latencyMillis ?? Persisted.noLatency); put64(&out, r.updatedAt)
    }
    private static func put32(_ out: inout [UInt8], _ v: Int) { for s in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> s)) } }
    private static func put64(_ out: inout [UInt8], _ v: UInt64) { for s in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> s)) } }

    private struct Reader {
        let bytes: [UInt8]
        var at = 0
        mutating func take(_ n: Int) throws(RoutingError) -> [UInt8] {
            guard at + n <= bytes.count else { throw .reputationMalformed("truncated") }
            defer { at += n }
            return Array(bytes[at..<at + n])
        }
        mutating func u32() throws(RoutingError) -> Int { try take(4).reduce(0) { $0 << 8 | Int($1) } }
        mutating func u64() throws(RoutingError) -> UInt64 { try take(8).reduce(0) { $0 << 8 | UInt64($1) } }
        mutating func record() throws(RoutingError) -> Record {
            let s = try u64(), f = try u64(), l = try u64(), t = try u64()
            guard s <= ReputationTracker.maxCount, f <= ReputationTracker.maxCount else { throw .reputationMalformed("count beyond the bound") }
            return Record(successes: s, failures: f, latencyMillis: l == Persisted.noLatency ? nil : l, updatedAt: t)
        }
    }
}
