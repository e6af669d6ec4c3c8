import PaymeshMessages
import Testing
@testable import PaymeshStore

@Suite struct RestartTests {
    /// 1,000,000 vouchers in history over 100 channels: reopening and loading every channel with its
    /// latest voucher reads the `channels` table only. Prints the time (no timed assertion).
    @Test func restartWithAMillionHistoryRowsLoadsOnlyLatest() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("million.sqlite")
        let channels = 100, perChannel = 10_000
        let clock = ContinuousClock()
        do {
            let store = try ChannelStore(path: path)
            for i in 0..<channels { try await store.saveChannel(Fixtures.channel(i)) }
            let start = clock.now
            var chunk: [StoredVoucher] = []
            chunk.reserveCapacity(50_000)
            for i in 0..<channels {
                for n in 1...perChannel {
                    chunk.append(Fixtures.voucher(channel: i, nonce: UInt64(n), timestampMillis: Int64(n)))
                    if chunk.count == 50_000 {
                        try await store.importVoucherHistory(chunk)
                        chunk.removeAll(keepingCapacity: true)
                    }
                }
            }
            let rows = try store.read { db throws(StoreError) in try db.integer("SELECT count(*) FROM voucher_history") }
            #expect(rows == Int64(channels * perChannel))
            print("restart test: built \(rows) history rows in \(clock.now - start)")
            await store.close()
        }
        let start = clock.now
        let store = try ChannelStore(path: path)
        let loaded = try store.loadChannels()
        let elapsed = clock.now - start
        print("restart test: open + load of \(loaded.count) channels over 1,000,000 history rows took \(elapsed)")
        #expect(loaded.count == channels)
        for (i, channel) in loaded.enumerated() {
            #expect(channel.latestVoucher == Fixtures.voucher(channel: i, nonce: UInt64(perChannel), timestampMillis: Int64(perChannel)))
        }
        // The payer can carry on from the stored latest nonce.
        try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: UInt64(perChannel) + 1))
        await store.close()
    }

    @Test func loadingChannelsDoesNotTouchHistory() throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("plan.sqlite"))
        let plan = try store.read { db throws(StoreError) in
            let s = try db.statement("EXPLAIN QUERY PLAN SELECT * FROM channels ORDER BY id")
            var details: [String] = []
            while try s.step() { details.append(s.text(3) ?? "") }
            return details.joined(separator: "; ")
        }
        #expect(!plan.contains("voucher_history"))
        #expect(!plan.contains("TEMP B-TREE")) // ordered by the primary key, no sort
    }

    /// Schema v5: per-channel history reads go through `voucher_history_by_channel`, with no sort
    /// and no scan of the (insertion-ordered) history table.
    @Test func historyQueriesUseTheChannelIndex() throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("plan.sqlite"))
        let key = "(SELECT key FROM channel_keys WHERE channel = ?1)"
        for query in [
            "SELECT nonce, amount, signature, task_id, ts FROM voucher_history WHERE channel_key = \(key) AND nonce > ?2 ORDER BY nonce LIMIT ?3",
            "SELECT nonce, amount, signature, task_id, ts FROM voucher_history WHERE channel_key = \(key) AND nonce <= ?2 ORDER BY nonce DESC LIMIT ?3",
            "SELECT coalesce(max(nonce), 0) FROM voucher_history WHERE channel_key = \(key)",
        ] {
            let plan = try store.read { db throws(StoreError) in
                let s = try db.statement("EXPLAIN QUERY PLAN " + query)
                var details: [String] = []
                while try s.step() { details.append(s.text(3) ?? "") }
                return details.joined(separator: "; ")
            }
            #expect(plan.contains("voucher_history_by_channel"), "\(plan)")
            #expect(!plan.contains("TEMP B-TREE") && !plan.contains("SCAN"), "\(plan)")
        }
    }
}
