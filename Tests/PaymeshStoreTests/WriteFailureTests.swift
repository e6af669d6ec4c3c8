import Foundation
import PaymeshMessages
import PaymeshTestSupport
import Testing
@testable import PaymeshStore

/// Issue 7 item 2 (the writer's part) and item 10: one bad write must not take the store down for
/// everyone; a full disk fails the writes it meets and the store recovers once space is freed.
@Suite struct WriteFailureTests {
    /// `ledger.fund` of 2^128 − 1 then 1 used to abort its batch with "ledger sum exceeds 2^128 − 1"
    /// and stop the writer for good: every later write was refused while the process looked healthy.
    @Test func aFailingRequestFailsAloneAndTheOthersCommit() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("s.sqlite"))
        try await store.saveChannel(Fixtures.channel(0))
        let owner = Fixtures.address(0xAA)
        try await store.ledger.fund(owner: owner, asset: Fixtures.asset, amount: Amount(UInt128.max), timestampMillis: 0)

        // One overflowing request among ordinary ones, submitted together (they share batches).
        let outcomes = await withTaskGroup(of: (Int, StoreError?).self) { group in
            for i in 0..<64 {
                group.addTask {
                    do {
                        if i == 32 {
                            try await store.ledger.fund(owner: owner, asset: Fixtures.asset, amount: Amount(1), timestampMillis: 1)
                        } else {
                            try await store.setMetadata([UInt8(i)], forKey: "k\(i)")
                        }
                        return (i, nil)
                    } catch let e as StoreError {
                        return (i, e)
                    } catch {
                        return (i, .failed("\(error)"))
                    }
                }
            }
            var all: [Int: StoreError?] = [:]
            for await (i, e) in group { all[i] = e }
            return all
        }
        let overflow = try #require(outcomes[32] ?? nil, "the overflowing fund must fail")
        #expect(!overflow.isEnvironmentFailure, "\(overflow)")
        for i in 0..<64 where i != 32 {
            #expect(outcomes[i]! == nil, "request \(i) failed: \(String(describing: outcomes[i]!))")
            #expect(try store.metadata(forKey: "k\(i)") == [UInt8(i)])
        }
        // The balance is what it was, and the store keeps accepting writes.
        #expect(try store.ledger.balance(owner: owner, assetID: Fixtures.asset.id) == Amount(UInt128.max))
        try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: 1))
        #expect(try store.channel(Fixtures.channelID(0))?.latestVoucher?.nonce == 1)
        #expect(store.health == .ok)
        #expect(store.statistics.failedBatches == 0)
        await store.close()
    }

    /// A real full disk (a tmpfs): the write fails with "disk full" and the path, nothing of it is
    /// stored, and once space is freed the same open store commits again — no restart.
    @Test(.enabled(if: SmallDisk.isAvailable), .timeLimit(.minutes(3)))
    func diskFullFailsTheBatchAndTheWriterRecovers() async throws {
        let disk = try SmallDisk(bytes: 1 << 20)
        let path = disk.file("channels.sqlite")
        let store = try ChannelStore(path: path)
        try await store.saveChannel(Fixtures.channel(0))
        for n in 1...5 { try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: UInt64(n))) }
        disk.fill()

        var nonce: UInt64 = 5
        var failure: StoreError?
        while failure == nil, nonce < 200_000 {
            nonce += 1
            do { try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: nonce)) } catch { failure = error }
        }
        let error = try #require(failure)
        #expect(error.isDiskFull, "\(error)")
        #expect(error.description.contains("disk full") && error.description.contains(path), "\(error)")
        guard case .degraded = store.health else { Issue.record("health \(store.health)"); return }
        let durable = nonce - 1
        #expect(try store.channel(Fixtures.channelID(0))?.latestVoucher?.nonce == durable)
        // Still full: refused again, nothing half-written.
        await #expect(throws: StoreError.self) { try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: nonce)) }

        disk.free()
        try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: nonce))
        try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: nonce + 1))
        #expect(store.health == .ok)
        #expect(try store.channel(Fixtures.channelID(0))?.latestVoucher?.nonce == nonce + 1)
        #expect(try store.voucherHistory(channel: Fixtures.channelID(0), afterNonce: durable - 1, limit: 10).map(\.nonce)
                == [durable, nonce, nonce + 1])
        await store.close()
        #expect(try ChannelStore(path: path).integrityCheck() == ["ok"])
    }

    /// A damaged file is the one failure the writer does not retry: it stops, says so in `health`,
    /// and refuses every later write with a clear error instead of looking healthy.
    @Test func aDamagedFileStopsTheWriterLoudly() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("damaged.sqlite")
        let root: Int64
        do {
            let store = try ChannelStore(path: path)
            try await store.saveChannel(Fixtures.channel(0))
            try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: 1))
            root = try store.read { db throws(StoreError) in
                try db.integer("SELECT rootpage FROM sqlite_schema WHERE name = 'voucher_history'")
            }
            await store.close()
        }
        // Damage the root page of voucher_history (a rowid table since v5).
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        try handle.seek(toOffset: UInt64(root - 1) * 4_096)
        handle.write(Data(repeating: 0xA5, count: 4_096))
        try handle.close()

        let store = try ChannelStore(path: path, configuration: .default, migrateTo: Migrations.current, verify: false)
        let first = await #expect(throws: StoreError.self) { try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: 2)) }
        #expect(first?.isUnusableFile == true, "\(String(describing: first))")
        guard case .stopped = store.health else { Issue.record("health \(store.health)"); return }
        let later = await #expect(throws: StoreError.self) { try await store.setMetadata([1], forKey: "x") }
        #expect(later?.isWriterStopped == true)
        #expect(later?.description.contains("refuses further writes") == true)
    }
}

/// Issue 7 items 11 and 13 (store side): damage the file finds at start, history over damaged
/// pages, file modes, and a full disk at start.
@Suite struct StoreFileHardeningTests {
    static func storeWithHistory(_ path: String, vouchers: Int) async throws {
        let store = try ChannelStore(path: path)
        try await store.saveChannel(Fixtures.channel(0))
        try await store.saveChannel(Fixtures.channel(1))
        try await store.importVoucherHistory((1...vouchers).map { Fixtures.voucher(channel: 0, nonce: UInt64($0)) })
        try await store.recordVoucher(Fixtures.voucher(channel: 1, nonce: 1))
        await store.close()
    }

    static func raw(_ path: String, _ sql: String) throws {
        let db = try SQLiteConnection(path: path, mode: .readWrite)
        try db.execute(sql)
    }

    @Test func aLoweredLatestNonceIsRefusedAtOpen() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.sqlite")
        try await Self.storeWithHistory(path, vouchers: 50)
        try Self.raw(path, "UPDATE channels SET latest_nonce = 40 WHERE latest_nonce = 50")
        let error = #expect(throws: StoreError.self) { try ChannelStore(path: path) }
        #expect(error?.isUnusableFile == true)
        #expect(error?.description.contains("latest nonce 40 but the history's highest is 50") == true, "\(String(describing: error))")
    }

    @Test func aFlippedLatestAmountIsRefusedAtOpen() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.sqlite")
        try await Self.storeWithHistory(path, vouchers: 50)
        // One bit of the 16-byte big-endian amount (50,000 = 0xC350 → 0xC351).
        try Self.raw(path, "UPDATE channels SET latest_amount = x'0000000000000000000000000000C351' WHERE latest_nonce = 50")
        let error = #expect(throws: StoreError.self) { try ChannelStore(path: path) }
        #expect(error?.description.contains("differs from its history row") == true, "\(String(describing: error))")
    }

    /// Random damage in the history pages: `verifiedVoucherHistory` reports an error or returns
    /// every row — never a shorter list that passes for the history.
    @Test func damagedHistoryPagesAreAnErrorNotAShortList() async throws {
        var rng = SystemRandomNumberGenerator()
        var caught = 0
        for round in 0..<6 {
            let dir = TemporaryDirectory()
            let path = dir.file("s.sqlite")
            try await Self.storeWithHistory(path, vouchers: 5_000)
            let handle = try #require(FileHandle(forUpdatingAtPath: path))
            let size = try handle.seekToEnd()
            for _ in 0..<(round + 1) * 8 {
                let offset = UInt64.random(in: (size / 4)..<(size * 3 / 4), using: &rng)
                try handle.seek(toOffset: offset)
                handle.write(Data([UInt8.random(in: 0...255, using: &rng)]))
            }
            try handle.close()
            let opened = Result { () throws(StoreError) -> ChannelStore in
                try ChannelStore(path: path, configuration: .default, migrateTo: Migrations.current, verify: false)
            }
            guard case .success(let store) = opened else { caught += 1; continue }
            var rows: [StoredVoucher] = []
            var failed = false
            var after: UInt64 = 0
            while true {
                do {
                    let page = try store.verifiedVoucherHistory(channel: Fixtures.channelID(0), afterNonce: after, limit: 1_000)
                    rows += page
                    guard page.count == 1_000, let last = page.last else { break }
                    after = last.nonce
                } catch {
                    failed = true
                    break
                }
            }
            if failed { caught += 1 } else {
                #expect(rows.map(\.nonce) == Array(1...5_000), "round \(round): \(rows.count) rows returned as the whole history")
            }
        }
        print("damaged history: \(caught) of 6 damaged files reported as errors")
    }

    @Test func storeFilesAreOwnerOnly() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("s.sqlite")
        let store = try ChannelStore(path: path)
        try await store.saveChannel(Fixtures.channel(0))
        for suffix in ["", "-wal", "-shm"] {
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: path + suffix)[.posixPermissions] as? Int)
            #expect(mode == 0o600, "\(path + suffix) has mode \(String(mode, radix: 8))")
        }
        await store.close()
        // An existing 0644 file is tightened.
        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path)
        let again = try ChannelStore(path: path)
        #expect(try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int == 0o600)
        await again.close()
    }

    @Test(.enabled(if: SmallDisk.isAvailable))
    func startingOnAFullDiskSaysDiskFull() throws {
        let disk = try SmallDisk(bytes: 256 * 1_024)
        disk.fill()
        let path = disk.file("channels.sqlite")
        let error = #expect(throws: StoreError.self) { try ChannelStore(path: path) }
        #expect(error?.isDiskFull == true, "\(String(describing: error))")
        #expect(error?.description.contains("disk full") == true && error?.description.contains(path) == true,
                "\(String(describing: error))")
    }
}
