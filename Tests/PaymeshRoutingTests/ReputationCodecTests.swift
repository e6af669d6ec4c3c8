import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshRouting
import Testing

/// The persisted reputation record (Specs/storage.md "Reputation"): it round-trips, keeps the most
/// recently updated entries within its bounds, and anything malformed is refused whole.
@Suite struct ReputationCodecTests {
    static func address(_ b: UInt8) -> EthereumAddress { try! EthereumAddress([UInt8](repeating: b, count: 20)) }
    static func channel(_ b: UInt8) -> ChannelID { try! ChannelID([UInt8](repeating: b, count: 32)) }

    static func tracker() -> ReputationTracker {
        var t = ReputationTracker()
        t.nodes[address(1)] = .init(successes: 3_000, failures: 500, latencyMillis: 12, updatedAt: 1_000)
        t.nodes[address(2)] = .init(successes: 0, failures: 1_000, latencyMillis: nil, updatedAt: 2_000)
        t.channels[channel(3)] = .init(successes: 1_000, failures: 0, latencyMillis: nil, updatedAt: 1_500)
        t.hints[.init(channelID: channel(3), from: address(1))] = .init(maxSendable: (UInt128(1) << 100) + 5, learnedAt: 1_400)
        return t
    }

    @Test func theRecordRoundTrips() throws {
        let t = Self.tracker()
        let bytes = t.encoded()
        #expect(bytes.count == 16 + 2 * 52 + 64 + 76)
        #expect(try ReputationTracker(decoding: bytes) == t)
        #expect(try ReputationTracker(decoding: ReputationTracker().encoded()) == ReputationTracker())
    }

    @Test func malformedRecordsAreRefused() {
        let bytes = Self.tracker().encoded()
        for bad in [Array(bytes.dropLast()), bytes + [0], Array("PMR2".utf8) + bytes.dropFirst(4), [], Array(bytes.prefix(10))] {
            #expect(throws: RoutingError.self) { try ReputationTracker(decoding: bad) }
        }
        // Counts beyond the bounds are refused before any length is trusted.
        var huge = bytes
        huge[4...7] = [0xff, 0xff, 0xff, 0xff]
        #expect(throws: RoutingError.self) { try ReputationTracker(decoding: huge) }
    }

    @Test func onlyTheMostRecentEntriesArePersisted() throws {
        var t = ReputationTracker()
        for i in 0..<(ReputationTracker.Persisted.maxNodes + 5) {
            var raw = [UInt8](repeating: 0, count: 20)
            raw[18] = UInt8(i >> 8); raw[19] = UInt8(i & 0xff)
            t.nodes[try EthereumAddress(raw)] = .init(successes: 1_000, failures: 0, latencyMillis: nil, updatedAt: UInt64(i))
        }
        let back = try ReputationTracker(decoding: t.encoded())
        #expect(back.nodes.count == ReputationTracker.Persisted.maxNodes)
        #expect(back.nodes.values.map(\.updatedAt).min() == 5)
    }
}
