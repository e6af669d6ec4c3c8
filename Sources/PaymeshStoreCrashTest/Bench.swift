import Foundation
import PaymeshMessages
import PaymeshStore

/// `bench <dir> [seconds]`: durable vouchers/s with 1, 10, 100 and 1000 concurrent writers in FULL and
/// NORMAL mode, then open+load time of a store with 1,000,000 history rows over 100 channels.
/// Prints figures; asserts nothing about speed.
func runBench(directory: String, seconds: Double) async {
    do {
        for sync in [StoreConfiguration.Synchronous.full, .normal] {
            for writers in [1, 10, 100, 1_000] {
                try await throughput(directory: directory, sync: sync, writers: writers, seconds: seconds)
            }
        }
        try await restart(directory: directory, channels: 100, rows: 1_000_000)
    } catch { fail("bench: \(error)") }
}

private func freshPath(_ directory: String, _ name: String) -> String {
    let path = directory + "/" + name
    for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) }
    return path
}

private func throughput(directory: String, sync: StoreConfiguration.Synchronous, writers: Int, seconds: Double) async throws {
    let path = freshPath(directory, "bench-throughput.sqlite")
    let store = try ChannelStore(path: path, configuration: StoreConfiguration(synchronous: sync))
    for i in 0..<writers { try await store.saveChannel(Fixtures.channel(i)) }
    let before = store.statistics
    let clock = ContinuousClock()
    let deadline = clock.now + .milliseconds(Int(seconds * 1000))
    let start = clock.now
    let acked = try await withThrowingTaskGroup(of: Int.self, returning: Int.self) { group in
        for w in 0..<writers {
            group.addTask {
                var nonce: UInt64 = 0
                while clock.now < deadline {
                    nonce += 1
                    try await store.recordVoucher(Fixtures.voucher(channel: w, nonce: nonce))
                }
                return Int(nonce)
            }
        }
        return try await group.reduce(0, +)
    }
    let elapsed = clock.now - start
    let secs = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let after = store.statistics
    let commits = after.commits - before.commits
    await store.close()
    print(String(format: "throughput sync=%@ writers=%4d: %8.0f durable vouchers/s, %6.0f commits/s, %6.1f vouchers/commit, largest batch %d",
                 sync == .full ? "FULL  " : "NORMAL", writers, Double(acked) / secs, Double(commits) / secs,
                 Double(acked) / Double(max(commits, 1)), after.largestBatch))
}

private func restart(directory: String, channels: Int, rows: Int) async throws {
    let path = freshPath(directory, "bench-restart.sqlite")
    let clock = ContinuousClock()
    do {
        let store = try ChannelStore(path: path)
        for i in 0..<channels { try await store.saveChannel(Fixtures.channel(i)) }
        let perChannel = rows / channels
        let chunk = 50_000
        let buildStart = clock.now
        var chunkRows: [StoredVoucher] = []
        chunkRows.reserveCapacity(chunk)
        // Channel-major order: each chunk appends runs of consecutive nonces per channel.
        for i in 0..<channels {
            for n in 1...perChannel {
                chunkRows.append(Fixtures.voucher(channel: i, nonce: UInt64(n), timestampMillis: Int64(n)))
                if chunkRows.count == chunk {
                    try await store.importVoucherHistory(chunkRows)
                    chunkRows.removeAll(keepingCapacity: true)
                }
            }
        }
        if !chunkRows.isEmpty { try await store.importVoucherHistory(chunkRows) }
        print("restart: built \(rows) history rows over \(channels) channels in \(clock.now - buildStart)")
        await store.close()
    }
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    for round in 1...3 {
        let start = clock.now
        let store = try ChannelStore(path: path)
        let loaded = try store.loadChannels()
        let elapsed = clock.now - start
        let total = loaded.reduce(UInt64(0)) { $0 + ($1.latestVoucher?.nonce ?? 0) }
        print("restart round \(round): open + load \(loaded.count) channels (latest nonces sum \(total)) in \(elapsed); file \(size / 1_048_576) MiB")
        await store.close()
    }
}
