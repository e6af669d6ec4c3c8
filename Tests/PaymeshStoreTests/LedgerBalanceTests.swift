import PaymeshCrypto
import PaymeshMessages
import Testing
@testable import PaymeshStore

/// Balances kept incrementally in `ledger_balances` / `ledger_escrows` (Specs/storage.md, v3):
/// one row per account, updated in the request's savepoint, never re-summed; amounts that would
/// pass 2^128 − 1 refused as a request (issue 7 items 2 and 4).
@Suite struct LedgerBalanceTests {
    let owner = Fixtures.address(0x01)
    let payee = Fixtures.address(0x02)
    static let max = UInt128.max

    /// Issue 7 item 2, locally: 2^128 − 1 then 1 used to make the writer report a corrupt sum and
    /// refuse every later write. Now the second credit is refused alone and the store keeps writing.
    @Test func anOverflowingCreditIsRefusedAloneAndTheStoreKeepsWriting() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("l.sqlite"))
        let ledger = store.ledger
        try await ledger.fund(owner: owner, asset: Fixtures.asset, amount: Amount(Self.max), timestampMillis: 1)
        let error = await #expect(throws: StoreError.self) {
            try await ledger.fund(owner: owner, asset: Fixtures.asset, amount: Amount(1), timestampMillis: 2)
        }
        #expect(error?.isRejectedRequest == true, "refused as a request, not a database failure: \(String(describing: error))")
        #expect(error?.description.contains("2^128") == true)
        // Nothing of the refused request was written; later writes of any kind succeed.
        #expect(try ledger.balance(owner: owner, assetID: "USDC") == Amount(Self.max))
        #expect(try ledger.entries(owner: owner, assetID: "USDC").count == 1)
        let eth = try Asset(id: "ETH", decimals: 18)
        try await ledger.fund(owner: owner, asset: eth, amount: Amount(5), timestampMillis: 3)
        try await store.setMetadata([1], forKey: "still/writing")
        #expect(try ledger.balance(owner: owner, assetID: "ETH") == Amount(5))
        await store.close()
    }

    /// The balance is one row per (owner, asset) however many entries the account has, and it
    /// equals the sum of the entries.
    @Test func oneBalanceRowPerAccountWhateverTheNumberOfEntries() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("l.sqlite"))
        let ledger = store.ledger
        for i in 0..<200 {
            try await ledger.fund(owner: owner, asset: Fixtures.asset, amount: Amount(UInt128(i + 1)), timestampMillis: Int64(i))
        }
        try await ledger.fund(owner: payee, asset: Fixtures.asset, amount: Amount(3), timestampMillis: 0)
        let rows = try store.read { db throws(StoreError) in try db.integer("SELECT count(*) FROM ledger_balances") }
        #expect(rows == 2)
        #expect(try ledger.balance(owner: owner, assetID: "USDC") == Amount(200 * 201 / 2))
        #expect(try ledger.balances() == [
            LedgerBalance(owner: owner, assetID: "USDC", amount: Amount(200 * 201 / 2)),
            LedgerBalance(owner: payee, assetID: "USDC", amount: Amount(3)),
        ])
        await store.close()
    }

    /// Within one request the net change of each account counts (a credit and a debit of one
    /// account in either order); an overdraft is refused and leaves the row as it was.
    @Test func aRequestAppliesTheNetChangePerAccount() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("l.sqlite"))
        let ledger = store.ledger
        try await ledger.fund(owner: owner, asset: Fixtures.asset, amount: Amount(4), timestampMillis: 0)
        func entry(_ d: LedgerEntry.Direction, _ a: UInt128) -> LedgerEntry {
            LedgerEntry(owner: owner, asset: Fixtures.asset, direction: d, amount: Amount(a), reason: d == .credit ? .funding : .withdrawal,
                        channel: nil, timestampMillis: 1)
        }
        try await store.appendLedger([entry(.debit, 8), entry(.credit, 5)]) // 4 − 8 + 5: negative only in between
        #expect(try ledger.balance(owner: owner, assetID: "USDC") == Amount(1))
        await #expect(throws: StoreError.insufficientBalance(owner: owner, asset: "USDC")) {
            try await store.appendLedger([entry(.credit, 5), entry(.debit, 7)])
        }
        #expect(try ledger.balance(owner: owner, assetID: "USDC") == Amount(1))
        // A credit near the top with a debit in the same request: the net fits, so it is applied.
        try await store.appendLedger([entry(.credit, Self.max - 1), entry(.debit, 1)])
        #expect(try ledger.balance(owner: owner, assetID: "USDC") == Amount(Self.max - 1))
        // Two credits whose sum alone passes 2^128 − 1 are refused even with a debit after them.
        let error = await #expect(throws: StoreError.self) {
            try await store.appendLedger([entry(.credit, Self.max), entry(.credit, Self.max), entry(.debit, Self.max)])
        }
        #expect(error?.isRejectedRequest == true)
        #expect(try ledger.balance(owner: owner, assetID: "USDC") == Amount(Self.max - 1))
        #expect(try store.integrityCheck() == ["ok"])
        await store.close()
    }

    /// A payee's books hold no deposit of the payer: the payee's channel term (the deposit in the
    /// `channels` row) bounds its one payout, which closes the channel on its books.
    @Test func aPayeeChannelPaysOutAtMostItsDepositOnce() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("l.sqlite"))
        let ledger = store.ledger
        let channel = Fixtures.channelID(3)
        try await store.saveChannel(Fixtures.channel(3, role: .payee))
        let deposit = Fixtures.deposit.atomicUnits
        #expect(try ledger.escrow(channel: channel) == Amount(deposit))
        func payout(_ a: UInt128) -> LedgerEntry {
            LedgerEntry(owner: payee, asset: Fixtures.asset, direction: .credit, amount: Amount(a), reason: .payout,
                        channel: channel, timestampMillis: 1)
        }
        await #expect(throws: StoreError.insufficientEscrow(channel)) { try await store.appendLedger([payout(deposit + 1)]) }
        try await store.appendLedger([payout(deposit - 10)])
        #expect(try ledger.balance(owner: payee, assetID: "USDC") == Amount(deposit - 10))
        #expect(try ledger.escrow(channel: channel) == .zero)
        await #expect(throws: StoreError.insufficientEscrow(channel)) { try await store.appendLedger([payout(1)]) }
        #expect(try ledger.balances() == [LedgerBalance(owner: payee, assetID: "USDC", amount: Amount(deposit - 10))])
        await store.close()
    }

    /// A version 2 file (entries only, balances summed on every write) gains the balance and
    /// escrow tables, filled from its entries.
    @Test func upgradesVersion2BalancesFromTheEntries() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("v2.sqlite")
        let channel = Fixtures.channelID(1)
        let big = UInt128(1) << 127
        do {
            let v2 = try ChannelStore(path: path, configuration: .default, migrateTo: 2)
            try await v2.saveChannel(Fixtures.channel(1))
            await v2.close()
            let raw = try SQLiteConnection(path: path, mode: .readWrite)
            // (owner, direction, amount, reason, channel?)
            let rows: [(EthereumAddress, Int64, UInt128, String, ChannelID?)] = [
                (owner, 1, big, "funding", nil), (owner, 1, big - 100, "funding", nil),
                (owner, -1, 100, "depositLock", channel), (payee, 1, 60, "payout", channel), (owner, 1, 40, "refund", channel),
                (owner, -1, 7, "withdrawal", nil),
            ]
            for (who, direction, amount, reason, ch) in rows {
                try raw.run("""
                    INSERT INTO ledger_entries (owner, asset_id, asset_decimals, direction, amount, reason, channel, ts)
                    VALUES (?1, 'USDC', 6, ?2, ?3, ?4, ?5, 0)
                    """) { s throws(StoreError) in
                    try s.bind(1, who.bytes)
                    try s.bind(2, direction)
                    try s.bind(3, AmountEncoding.encode(Amount(amount)))
                    try s.bind(4, reason)
                    try s.bind(5, ch?.bytes)
                }
            }
        }
        let store = try ChannelStore(path: path)
        #expect(try store.storedSchemaVersion() == ChannelStore.schemaVersion)
        let ownerBalance = big + (big - 100) - 100 + 40 - 7 // credits 2^128 − 60: v2 summed credits alone too
        #expect(try store.ledger.balances() == [
            LedgerBalance(owner: owner, assetID: "USDC", amount: Amount(ownerBalance)),
            LedgerBalance(owner: payee, assetID: "USDC", amount: Amount(60)),
        ])
        #expect(try store.ledger.escrow(channel: channel) == .zero)
        #expect(try store.read { db throws(StoreError) in try db.integer("SELECT count(*) FROM ledger_balances") } == 2)
        // The migrated balance is the one later writes build on, and its top is still guarded.
        await #expect(throws: StoreError.self) {
            try await store.ledger.fund(owner: owner, asset: Fixtures.asset, amount: Amount(UInt128.max - ownerBalance + 1), timestampMillis: 1)
        }
        try await store.ledger.fund(owner: owner, asset: Fixtures.asset, amount: Amount(UInt128.max - ownerBalance), timestampMillis: 1)
        #expect(try store.ledger.balance(owner: owner, assetID: "USDC") == Amount(UInt128.max))
        #expect(try store.integrityCheck() == ["ok"])
        await store.close()
    }
}
