import Foundation
import Testing
@testable import PaymeshStore

/// WAL checkpoints run off the commit path (Specs/storage.md, "Checkpoints off the commit path").
@Suite struct CheckpointTests {
    /// Many more WAL frames than one checkpoint's worth, over 100 channels: checkpoints ran, the WAL
    /// never grew past its bound (plus one batch), and every voucher is there, before and after a reopen.
    @Test func checkpointsKeepTheWALBoundedAndLoseNothing() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("c.sqlite")
        let channels = 100, rounds = 400
        let store = try ChannelStore(path: path, configuration: StoreConfiguration(synchronous: .normal))
        for i in 0..<channels { try await store.saveChannel(Fixtures.channel(i)) }
        var largestWAL = 0
        for round in 1...rounds {
            try await store.recordVouchers((0..<channels).map { Fixtures.voucher(channel: $0, nonce: UInt64(round)) })
            largestWAL = max(largestWAL, Self.fileSize(path + "-wal"))
        }
        await store.close()
        // Asked for after ~1,000 frames; a request made before the close still runs.
        let statistics = store.statistics
        // The checkpointer thread copied frames (its connection opened the WAL: a connection that
        // never read the file "checkpoints" nothing and reports -1 frames), and none failed.
        #expect(statistics.checkpoints >= 1)
        #expect(statistics.checkpointFailures == 0)
        #expect(statistics.requests == channels + rounds)
        // A frame is a 24-byte header and a 4 KiB page; one batch here is far below 2,000 frames.
        #expect(largestWAL <= (WALCheckpointer.inlineFrames + 2_000) * (24 + 4_096))

        let reopened = try ChannelStore(path: path)
        for i in 0..<channels {
            #expect(try reopened.channel(Fixtures.channelID(i))?.latestVoucher == Fixtures.voucher(channel: i, nonce: UInt64(rounds)))
            #expect(try reopened.highestHistoryNonce(channel: Fixtures.channelID(i)) == UInt64(rounds))
        }
        #expect(try reopened.voucherHistory(channel: Fixtures.channelID(7), limit: rounds).map(\.nonce) == (1...UInt64(rounds)).map { $0 })
        #expect(try reopened.integrityCheck() == ["ok"])
        await reopened.close()
    }

    static func fileSize(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    }
}
