import Foundation
import PaymeshMessages
import Testing
@testable import PaymeshStore

@Suite struct SchemaTests {
    @Test func freshStoreIsCurrentWithWALAndPragmas() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("s.sqlite"))
        #expect(try store.storedSchemaVersion() == ChannelStore.schemaVersion)
        #expect(ChannelStore.schemaVersion == 8)
        let (journal, appID, fk) = try store.read { db throws(StoreError) in
            (try db.text("PRAGMA journal_mode"), try db.integer("PRAGMA application_id"), try db.integer("PRAGMA foreign_keys"))
        }
        #expect(journal == "wal")
        #expect(appID == Int64(Schema.applicationID))
        #expect(fk == 1)
        #expect(try store.integrityCheck() == ["ok"])
        await store.close()
    }

    @Test func writerConnectionIsSynchronousFull() async throws {
        let dir = TemporaryDirectory()
        let db = try SQLiteConnection(path: dir.file("s.sqlite"), mode: .readWriteCreate)
        try Schema.prepare(db, synchronous: .full, busyTimeoutMillis: 100)
        #expect(try db.integer("PRAGMA synchronous") == 2) // FULL
        let other = try SQLiteConnection(path: dir.file("t.sqlite"), mode: .readWriteCreate)
        try Schema.prepare(other, synchronous: .normal, busyTimeoutMillis: 100)
        #expect(try other.integer("PRAGMA synchronous") == 1) // NORMAL
    }

    @Test func upgradesVersion1ToCurrentKeepingData() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("old.sqlite")
        do {
            // A store as version 1 wrote it: no ledger, no receipts, no close columns.
            let v1 = try ChannelStore(path: path, configuration: .default, migrateTo: 1)
            #expect(try v1.storedSchemaVersion() == 1)
            try v1.read { db throws(StoreError) in
                try db.execute("SELECT 1") // reader works on v1
            }
            let tables = try v1.read { db throws(StoreError) in
                try db.integer("SELECT count(*) FROM sqlite_schema WHERE name IN ('receipts', 'ledger_entries')")
            }
            #expect(tables == 0)
            await v1.close()
            // Insert v1 rows directly, with v1's columns only.
            let raw = try SQLiteConnection(path: path, mode: .readWrite)
            let c = Fixtures.channel(7)
            let v = Fixtures.voucher(channel: 7, nonce: 3)
            try raw.run("""
                INSERT INTO channels (id, role, local_address, remote_address, asset_id, asset_decimals, deposit,
                    challenge_period, settlement_backend, chain_id, verifying_contract, state, open_signature, opened_at,
                    latest_nonce, latest_amount, latest_signature, latest_task_id, latest_ts)
                VALUES (?1, 'payee', ?2, ?3, 'USDC', 6, ?4, 60, 'local-ledger', 1, ?5, 'open', NULL, 5, 3, ?6, ?7, 'task-3', 0)
                """) { s throws(StoreError) in
                try s.bind(1, c.id.bytes)
                try s.bind(2, c.localAddress.bytes)
                try s.bind(3, c.remoteAddress.bytes)
                try s.bind(4, AmountEncoding.encode(c.deposit))
                try s.bind(5, c.verifyingContract.bytes)
                try s.bind(6, AmountEncoding.encode(v.amount))
                try s.bind(7, v.signature.bytes)
            }
            // v1 wrote every latest voucher to the history too (checked at open since issue 7).
            try raw.run("INSERT INTO voucher_history (channel, nonce, amount, task_id, signature, ts) VALUES (?1, 3, ?2, 'task-3', ?3, 0)") { s throws(StoreError) in
                try s.bind(1, c.id.bytes)
                try s.bind(2, AmountEncoding.encode(v.amount))
                try s.bind(3, v.signature.bytes)
            }
        }
        let store = try ChannelStore(path: path)
        #expect(try store.storedSchemaVersion() == ChannelStore.schemaVersion)
        let loaded = try #require(try store.channel(Fixtures.channelID(7)))
        #expect(loaded.role == .payee)
        #expect(loaded.latestVoucher == Fixtures.voucher(channel: 7, nonce: 3))
        #expect(loaded.closeInfo == nil)
        #expect(loaded.lockedAmount == .zero)
        // Version 2 features work on the upgraded file.
        try await store.appendReceipt(Fixtures.receipt(channel: 7, seq: 1))
        try await store.ledger.fund(owner: Fixtures.address(1), asset: Fixtures.asset, amount: Amount(5), timestampMillis: 0)
        #expect(try store.ledger.balance(owner: Fixtures.address(1), assetID: "USDC") == Amount(5))
        try await store.recordVoucher(Fixtures.voucher(channel: 7, nonce: 4))
        #expect(try store.integrityCheck() == ["ok"])
        await store.close()
    }

    /// Issue 8: before v4 a DISPUTED channel was stored as `closed`; v4 stores it as `disputed`,
    /// recognising it by its close reason or by its metadata snapshot, and leaves other rows alone.
    @Test func version4StoresDisputedAsSuch() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("v3.sqlite")
        do {
            let v3 = try ChannelStore(path: path, configuration: .default, migrateTo: 3)
            for i in 0..<4 { try await v3.saveChannel(Fixtures.channel(i)) }
            let disputed = ChannelCloseInfo(reason: "disputed", closedAtMillis: 1, finalNonce: 0, finalAmount: .zero)
            try await v3.updateState(channel: Fixtures.channelID(0), status: .closed, closeInfo: disputed)
            try await v3.updateState(channel: Fixtures.channelID(1), status: .closed)
            try await v3.setMetadata(Array(#"{"open":"00","state":"DISPUTED"}"#.utf8), forKey: "channel/" + Fixtures.channelID(1).bytes.map { String(format: "%02x", $0) }.joined())
            let other = ChannelCloseInfo(reason: "cooperative", closedAtMillis: 1, finalNonce: 0, finalAmount: .zero)
            try await v3.updateState(channel: Fixtures.channelID(2), status: .closed, closeInfo: other)
            try await v3.updateState(channel: Fixtures.channelID(3), status: .closing)
            await v3.close()
        }
        let store = try ChannelStore(path: path)
        #expect(try store.storedSchemaVersion() == ChannelStore.schemaVersion)
        #expect(try (0..<4).map { try store.channel(Fixtures.channelID($0))?.status } == [.disputed, .disputed, .closed, .closing])
        try await store.updateState(channel: Fixtures.channelID(3), status: .disputed)
        #expect(try store.channel(Fixtures.channelID(3))?.status == .disputed)
        await store.close()
    }

    /// Issue 8 (performance): v5 moves the voucher history into a rowid table in insertion order
    /// keyed by a small channel number. A v4 store's history (interleaved over three channels, one
    /// channel without vouchers) comes out identical, latest vouchers included, and keeps working.
    @Test func version5KeepsHistoryAndLatestVouchers() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("v4.sqlite")
        let perChannel: [Int: Int] = [0: 5, 1: 0, 2: 3, 3: 7]
        func voucher(_ c: Int, _ n: Int) -> StoredVoucher {
            Fixtures.voucher(channel: c, nonce: UInt64(n), timestampMillis: Int64(n * 10 + c))
        }
        do {
            let v4 = try ChannelStore(path: path, configuration: .default, migrateTo: 4)
            for c in perChannel.keys.sorted() { try await v4.saveChannel(Fixtures.channel(c)) }
            await v4.close()
            // Vouchers as v4 wrote them: the latest in `channels`, every one in the (channel, nonce) table.
            let raw = try SQLiteConnection(path: path, mode: .readWrite)
            for n in 1...7 {
                for c in perChannel.keys.sorted() where n <= perChannel[c]! {
                    let v = voucher(c, n)
                    try raw.run("""
                        INSERT INTO voucher_history (channel, nonce, amount, task_id, signature, ts) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                        """) { s throws(StoreError) in
                        try s.bind(1, v.channel.bytes)
                        try s.bind(2, Int64(v.nonce))
                        try s.bind(3, AmountEncoding.encode(v.amount))
                        try s.bind(4, v.taskID)
                        try s.bind(5, v.signature.bytes)
                        try s.bind(6, v.timestampMillis)
                    }
                    try raw.run("""
                        UPDATE channels SET latest_nonce = ?2, latest_amount = ?3, latest_signature = ?4, latest_task_id = ?5, latest_ts = ?6
                        WHERE id = ?1
                        """) { s throws(StoreError) in
                        try s.bind(1, v.channel.bytes)
                        try s.bind(2, Int64(v.nonce))
                        try s.bind(3, AmountEncoding.encode(v.amount))
                        try s.bind(4, v.signature.bytes)
                        try s.bind(5, v.taskID)
                        try s.bind(6, v.timestampMillis)
                    }
                }
            }
        }
        let store = try ChannelStore(path: path) // migrates, then checks every latest voucher against the history
        #expect(try store.storedSchemaVersion() == ChannelStore.schemaVersion)
        for (c, count) in perChannel {
            let expected = count == 0 ? [] : (1...count).map { voucher(c, $0) }
            #expect(try store.voucherHistory(channel: Fixtures.channelID(c)) == expected)
            #expect(try store.verifiedVoucherHistory(channel: Fixtures.channelID(c)) == expected)
            #expect(try store.channel(Fixtures.channelID(c))?.latestVoucher == expected.last)
            #expect(try store.highestHistoryNonce(channel: Fixtures.channelID(c)) == UInt64(count))
        }
        let layout = try store.read { db throws(StoreError) in
            (try db.integer("SELECT count(*) FROM channel_keys"),
             try db.integer("SELECT count(*) FROM voucher_history"),
             try db.integer("SELECT count(*) FROM sqlite_schema WHERE name = 'voucher_history' AND sql LIKE '%WITHOUT ROWID%'"))
        }
        #expect(layout == (4, 15, 0))
        #expect(try store.integrityCheck() == ["ok"])
        // Writing carries on: the guarded batch over old and new channels, and a new channel's key.
        try await store.saveChannel(Fixtures.channel(4))
        try await store.recordVouchers([voucher(0, 6), voucher(1, 1), voucher(4, 1), voucher(0, 7)])
        #expect(try store.voucherHistory(channel: Fixtures.channelID(0), afterNonce: 5) == [voucher(0, 6), voucher(0, 7)])
        #expect(try store.voucherHistory(channel: Fixtures.channelID(4)) == [voucher(4, 1)])
        let stale = await #expect(throws: StoreError.self) { try await store.recordVouchers([voucher(2, 4), voucher(2, 3)]) }
        #expect(stale == .staleVoucher(Fixtures.channelID(2), nonce: 3, latest: 4))
        #expect(try store.highestHistoryNonce(channel: Fixtures.channelID(2)) == 3)
        try store.verifyLatestVouchers()
        await store.close()
    }

    /// A channel row and its metadata snapshot are written in one request: a refused row leaves no metadata.
    @Test func channelRowAndMetadataAreOneRequest() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"))
        try await store.saveChannel(Fixtures.channel(0), metadata: [1], forKey: "channel/0")
        #expect(try store.metadata(forKey: "channel/0") == [1])
        await #expect(throws: StoreError.duplicateChannel(Fixtures.channelID(0))) {
            try await store.saveChannel(Fixtures.channel(0), metadata: [2], forKey: "channel/0")
        }
        await #expect(throws: StoreError.unknownChannel(Fixtures.channelID(5))) {
            try await store.updateState(channel: Fixtures.channelID(5), status: .disputed, lockedAmount: nil, closeInfo: nil,
                                        metadata: [3], forKey: "channel/5")
        }
        #expect(try store.metadata(forKey: "channel/0") == [1])
        #expect(try store.metadata(forKey: "channel/5") == nil)
        await store.close()
    }

    @Test func refusesNewerSchema() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("new.sqlite")
        do {
            let store = try ChannelStore(path: path)
            await store.close()
        }
        do {
            let raw = try SQLiteConnection(path: path, mode: .readWrite)
            try raw.execute("PRAGMA user_version = \(ChannelStore.schemaVersion + 1)")
        }
        let error = #expect(throws: StoreError.self) { try ChannelStore(path: path) }
        #expect(error == .schemaTooNew(found: ChannelStore.schemaVersion + 1, supported: ChannelStore.schemaVersion))
        #expect(error?.isUnusableFile == true)
        #expect(error?.description.contains("newer") == true)
    }

    @Test func refusesAFileThatIsNotSQLite() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("garbage.sqlite")
        var bytes = [UInt8](repeating: 0, count: 8192)
        for i in bytes.indices { bytes[i] = UInt8(truncatingIfNeeded: i &* 31 &+ 7) }
        #expect(FileManager.default.createFile(atPath: path, contents: Data(bytes)))
        let error = #expect(throws: StoreError.self) { try ChannelStore(path: path) }
        #expect(error == .notADatabase(path: path))
        // Nothing was created beside it.
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func refusesAnotherApplicationsDatabase() throws {
        let dir = TemporaryDirectory()
        let path = dir.file("foreign.sqlite")
        do {
            let raw = try SQLiteConnection(path: path, mode: .readWriteCreate)
            try raw.execute("CREATE TABLE songs (title TEXT); INSERT INTO songs VALUES ('x')")
        }
        #expect(throws: StoreError.foreignDatabase(applicationID: 0)) { try ChannelStore(path: path) }
        do {
            let raw = try SQLiteConnection(path: path, mode: .readWrite)
            try raw.execute("PRAGMA application_id = 1234")
        }
        #expect(throws: StoreError.foreignDatabase(applicationID: 1234)) { try ChannelStore(path: path) }
    }

    @Test func reportsDamagedPages() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("damaged.sqlite")
        do {
            let store = try ChannelStore(path: path)
            for i in 0..<4 { try await store.saveChannel(Fixtures.channel(i)) }
            try await store.importVoucherHistory((1...3_000).map { Fixtures.voucher(channel: 0, nonce: UInt64($0)) })
            await store.close()
        }
        // Checkpointed on close: the history lives in the main file. Overwrite its middle pages.
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: size / 2)
        handle.write(Data(repeating: 0xA5, count: 16_384))
        try handle.close()
        // Either opening or the integrity check reports the damage; neither passes it off as sound.
        let outcome = Result { () throws(StoreError) -> [String] in try ChannelStore(path: path).integrityCheck() }
        switch outcome {
        case .success(let problems): #expect(problems != ["ok"])
        case .failure(let error): #expect(error.isUnusableFile, "\(error)")
        }
    }
}
