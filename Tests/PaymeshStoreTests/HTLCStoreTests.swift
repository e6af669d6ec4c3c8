import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshStore
import Synchronization
import Testing

/// Schema v6 (Specs/storage.md "HTLCs"): a channel's HTLC state round-trips as a unit, in signing
/// order; replacing it drops rows no longer held; refusals leave nothing; a v5 store migrates.
@Suite struct HTLCStoreTests {
    static func htlc(_ b: UInt8, state: StoredHTLC.State = .pending, link: Bool = false) -> StoredHTLC {
        StoredHTLC(htlcID: try! HTLCID([UInt8](repeating: b, count: 16)), side: b % 2 == 0 ? .offered : .received, state: state,
                   paymentHash: try! Hash32([UInt8](repeating: b &+ 1, count: 32)), amount: Amount((UInt128(1) << 70) + UInt128(b)),
                   expiryMillis: 1_767_225_600_000 + UInt64(b), preimage: state == .fulfilled ? try! Hash32([UInt8](repeating: b &+ 2, count: 32)) : nil,
                   reason: state == .cancelled ? .htlcTimeout : nil,
                   link: link ? (Fixtures.channelID(9), try! HTLCID([UInt8](repeating: 0xaa, count: 16))) : nil)
    }

    @Test func channelStateRoundTripsInSigningOrderAndIsReplacedAsAWhole() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("s.sqlite"))
        try await store.saveChannel(Fixtures.channel(0))
        let signature = Fixtures.signature(channel: 0, nonce: 3)
        let first = StoredHTLCChannel(channelID: Fixtures.channelID(0), nonce: 3, settled: Amount(UInt128.max - 5),
                                      voucher: (Amount(UInt128.max), 1_767_225_600_123, signature),
                                      htlcs: [Self.htlc(9), Self.htlc(2, state: .fulfilled, link: true), Self.htlc(5, state: .cancelled)])
        try await store.saveHTLCs(first)
        #expect(try store.loadHTLCChannels() == [first])
        let second = StoredHTLCChannel(channelID: Fixtures.channelID(0), nonce: 4, settled: Amount(7), htlcs: [Self.htlc(5, state: .cancelled)])
        try await store.saveHTLCs(second)
        // The ids no longer held come back as retired (sorted by bytes), never to be used again.
        var loaded = second
        loaded.retiredIDs = [Self.htlc(2).htlcID, Self.htlc(9).htlcID]
        #expect(try store.loadHTLCChannels() == [loaded])
        await store.close()
        // Durable across a reopen.
        let reopened = try ChannelStore(path: dir.file("s.sqlite"))
        #expect(try reopened.loadHTLCChannels() == [loaded])
        await reopened.close()
    }

    @Test func aForwardedHTLCsSharedSecretRoundTripsWhilePending() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("s.sqlite"))
        try await store.saveChannel(Fixtures.channel(3))
        var h = Self.htlc(1, link: true) // received, pending
        h.sharedSecret = try Hash32([UInt8](repeating: 0x5e, count: 32))
        let c = StoredHTLCChannel(channelID: Fixtures.channelID(3), nonce: 1, settled: .zero, htlcs: [h])
        try await store.saveHTLCs(c)
        #expect(try store.loadHTLCChannels() == [c])
        // Only a pending received HTLC keeps a secret: anything else breaks a CHECK, refused whole.
        var resolved = h
        resolved.state = .cancelled
        resolved.reason = .htlcTimeout
        await #expect(throws: StoreError.self) {
            try await store.saveHTLCs(StoredHTLCChannel(channelID: Fixtures.channelID(3), nonce: 2, settled: .zero, htlcs: [resolved]))
        }
        #expect(try store.loadHTLCChannels() == [c])
        await store.close()
    }

    @Test func refusalsWriteNothing() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("s.sqlite"))
        await #expect(throws: StoreError.unknownChannel(Fixtures.channelID(1))) {
            try await store.saveHTLCs(StoredHTLCChannel(channelID: Fixtures.channelID(1), nonce: 1, settled: .zero, htlcs: []))
        }
        try await store.saveChannel(Fixtures.channel(1))
        // A fulfilled HTLC without its preimage breaks a CHECK: the request is refused whole.
        var broken = Self.htlc(3, state: .fulfilled)
        broken.preimage = nil
        await #expect(throws: StoreError.self) {
            try await store.saveHTLCs(StoredHTLCChannel(channelID: Fixtures.channelID(1), nonce: 1, settled: .zero, htlcs: [Self.htlc(4), broken]))
        }
        #expect(try store.loadHTLCChannels().isEmpty)
        await store.close()
    }

    /// A forward's two channel states go in one `enqueueHTLCs` request: when one of them is refused
    /// on its own (here its outgoing channel has no row, as a bug could cause), neither is written —
    /// never an incoming preimage without its outgoing state, or the outgoing settled without the
    /// preimage upstream (Specs/channels.md §12.4). Each channel's completion gets the refusal.
    @Test func aForwardsTwoStatesAreWrittenTogetherOrNotAtAll() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("s.sqlite"))
        try await store.saveChannel(Fixtures.channel(1))
        let incoming = StoredHTLCChannel(channelID: Fixtures.channelID(1), nonce: 1, settled: .zero, htlcs: [Self.htlc(3, state: .fulfilled)])
        let outgoing = StoredHTLCChannel(channelID: Fixtures.channelID(2), nonce: 1, settled: .zero, htlcs: [Self.htlc(4)])
        let refused: [Result<Void, StoreError>] = await withCheckedContinuation { done in
            let results = Mutex<[Result<Void, StoreError>]>([])
            store.enqueueHTLCs([incoming, outgoing]) { result in
                let all = results.withLock { $0.append(result); return $0.count == 2 ? $0 : nil }
                if let all { done.resume(returning: all) }
            }
        }
        #expect(refused.count == 2)
        for r in refused { #expect(throws: StoreError.unknownChannel(Fixtures.channelID(2))) { try r.get() } }
        #expect(try store.loadHTLCChannels().isEmpty, "the incoming state was written without its outgoing one")
        // Both channels known: both written, in one request.
        try await store.saveChannel(Fixtures.channel(2))
        let written: Int = await withCheckedContinuation { done in
            let count = Mutex(0)
            store.enqueueHTLCs([incoming, outgoing]) { result in
                let n = count.withLock { n -> Int in if case .success = result { n += 1 }; return n }
                if n == 2 { done.resume(returning: n) }
            }
        }
        #expect(written == 2)
        #expect(Set(try store.loadHTLCChannels().map(\.channelID)) == [Fixtures.channelID(1), Fixtures.channelID(2)])
        await store.close()
    }

    @Test func aVersion5StoreMigratesToTheHTLCTables() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("v5.sqlite")
        do {
            let v5 = try ChannelStore(path: path, configuration: .default, migrateTo: 5)
            try await v5.saveChannel(Fixtures.channel(2))
            await v5.close()
        }
        let store = try ChannelStore(path: path)
        #expect(try store.storedSchemaVersion() == ChannelStore.schemaVersion)
        let c = StoredHTLCChannel(channelID: Fixtures.channelID(2), nonce: 1, settled: .zero, htlcs: [Self.htlc(1)])
        try await store.saveHTLCs(c)
        #expect(try store.loadHTLCChannels() == [c])
        #expect(try store.integrityCheck() == ["ok"])
        await store.close()
    }
}
