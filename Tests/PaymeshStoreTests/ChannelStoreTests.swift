import PaymeshMessages
import Synchronization
import Testing
@testable import PaymeshStore

@Suite struct ChannelStoreTests {
    @Test func savesAndReloadsEveryChannelField() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("c.sqlite")
        var record = Fixtures.channel(1, role: .payee)
        record.deposit = Amount(.max)
        record.chainID = UInt64(Int64.max)
        record.lockedAmount = Amount(12_345)
        record.latestVoucher = Fixtures.voucher(channel: 1, nonce: 9, timestampMillis: 77)
        do {
            let store = try ChannelStore(path: path)
            try await store.saveChannel(record)
            try await store.saveChannel(Fixtures.channel(2))
            await store.close()
        }
        let store = try ChannelStore(path: path)
        let loaded = try store.loadChannels()
        #expect(loaded.count == 2)
        #expect(loaded.first == record)
        #expect(loaded.last == Fixtures.channel(2))
        #expect(try store.voucherHistory(channel: record.id) == [record.latestVoucher!])
        await store.close()
    }

    @Test func refusesADuplicateChannel() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"))
        try await store.saveChannel(Fixtures.channel(1))
        await #expect(throws: StoreError.duplicateChannel(Fixtures.channelID(1))) {
            try await store.saveChannel(Fixtures.channel(1, role: .payee))
        }
        #expect(try store.channel(Fixtures.channelID(1))?.role == .payer)
        await store.close()
    }

    @Test func voucherBecomesLatestAndEntersHistory() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"))
        try await store.saveChannel(Fixtures.channel(0))
        for n in 1...5 as ClosedRange<UInt64> {
            try await store.recordVoucher(channel: Fixtures.channelID(0), nonce: n, amount: Fixtures.amount(nonce: n),
                                          signature: Fixtures.signature(channel: 0, nonce: n), taskID: "task-\(n)",
                                          timestampMillis: Int64(n))
        }
        let latest = try #require(try store.channel(Fixtures.channelID(0))?.latestVoucher)
        #expect(latest == Fixtures.voucher(channel: 0, nonce: 5, timestampMillis: 5))
        let history = try store.voucherHistory(channel: Fixtures.channelID(0))
        #expect(history.map(\.nonce) == [1, 2, 3, 4, 5])
        #expect(try store.voucherHistory(channel: Fixtures.channelID(0), afterNonce: 3, limit: 1).map(\.nonce) == [4])
        #expect(try store.highestHistoryNonce(channel: Fixtures.channelID(0)) == 5)
        await store.close()
    }

    @Test func refusesStaleDecreasingOverDepositAndUnknownVouchers() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"))
        var channel = Fixtures.channel(0)
        channel.deposit = Amount(10_000)
        try await store.saveChannel(channel)
        let id = channel.id
        try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: 5))
        // Reused and older nonces.
        await #expect(throws: StoreError.staleVoucher(id, nonce: 5, latest: 5)) {
            try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: 5))
        }
        await #expect(throws: StoreError.staleVoucher(id, nonce: 4, latest: 5)) {
            try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: 4))
        }
        // A higher nonce with a lower cumulative amount.
        var lower = Fixtures.voucher(channel: 0, nonce: 6)
        lower.amount = Amount(4_999)
        await #expect(throws: StoreError.amountDecreased(id, nonce: 6)) { try await store.recordVoucher(lower) }
        // Over the deposit (10 * 1000 is exactly the deposit and is fine; 11 is not).
        try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: 10))
        await #expect(throws: StoreError.exceedsDeposit(id, nonce: 11)) {
            try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: 11))
        }
        await #expect(throws: StoreError.unknownChannel(Fixtures.channelID(99))) {
            try await store.recordVoucher(Fixtures.voucher(channel: 99, nonce: 1))
        }
        await #expect(throws: StoreError.valueOutOfRange("voucher nonce exceeds 2^63 - 1")) {
            try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: UInt64(Int64.max) + 1))
        }
        // The refusals left no trace.
        #expect(try store.voucherHistory(channel: id).map(\.nonce) == [5, 10])
        #expect(try store.channel(id)?.latestVoucher?.nonce == 10)
        await store.close()
    }

    /// Issue 8: the node's batched write is guarded like `recordVoucher`, per channel and entry by
    /// entry; a violation anywhere refuses the whole request with its typed error.
    @Test func guardedBatchRefusesAnEntryThatGoesBackwardsOrAboveTheDeposit() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"))
        for i in 0..<2 {
            var channel = Fixtures.channel(i)
            channel.deposit = Amount(10_000)
            try await store.saveChannel(channel)
        }
        let a = Fixtures.channelID(0), b = Fixtures.channelID(1)
        // Many vouchers of many channels, interleaved, in one request.
        try await store.recordVouchers([1, 2, 3].flatMap { n in [Fixtures.voucher(channel: 0, nonce: n), Fixtures.voucher(channel: 1, nonce: n)] })
        #expect(try store.channel(a)?.latestVoucher?.nonce == 3)
        #expect(try store.channel(b)?.latestVoucher?.nonce == 3)
        #expect(try store.voucherHistory(channel: b).map(\.nonce) == [1, 2, 3])

        let good = Fixtures.voucher(channel: 1, nonce: 4)
        // At or below the stored latest nonce (a replay, or two batches committed out of order).
        await #expect(throws: StoreError.staleVoucher(a, nonce: 3, latest: 3)) {
            try await store.recordVouchers([good, Fixtures.voucher(channel: 0, nonce: 3)])
        }
        // Not increasing inside the request.
        await #expect(throws: StoreError.staleVoucher(a, nonce: 4, latest: 5)) {
            try await store.recordVouchers([Fixtures.voucher(channel: 0, nonce: 5), Fixtures.voucher(channel: 0, nonce: 4)])
        }
        // A higher nonce with a lower amount than the stored latest, then than the entry before it.
        var lower = Fixtures.voucher(channel: 0, nonce: 4)
        lower.amount = Amount(2_999)
        await #expect(throws: StoreError.amountDecreased(a, nonce: 4)) { try await store.recordVouchers([good, lower]) }
        lower.nonce = 6
        lower.amount = Amount(4_999)
        await #expect(throws: StoreError.amountDecreased(a, nonce: 6)) {
            try await store.recordVouchers([Fixtures.voucher(channel: 0, nonce: 5), lower])
        }
        // Above the deposit (10 * 1000 is exactly the deposit).
        await #expect(throws: StoreError.exceedsDeposit(a, nonce: 11)) {
            try await store.recordVouchers([good, Fixtures.voucher(channel: 0, nonce: 10), Fixtures.voucher(channel: 0, nonce: 11)])
        }
        await #expect(throws: StoreError.unknownChannel(Fixtures.channelID(9))) {
            try await store.recordVouchers([good, Fixtures.voucher(channel: 9, nonce: 1)])
        }
        // Each refusal wrote nothing, not even the valid entries of the same request.
        #expect(try store.voucherHistory(channel: a).map(\.nonce) == [1, 2, 3])
        #expect(try store.voucherHistory(channel: b).map(\.nonce) == [1, 2, 3])
        #expect(try store.channel(a)?.latestVoucher?.amount == Fixtures.amount(nonce: 3))
        try await store.recordVouchers([good, Fixtures.voucher(channel: 0, nonce: 10)])
        #expect(try store.channel(a)?.latestVoucher?.nonce == 10)
        #expect(try store.channel(b)?.latestVoucher?.nonce == 4)
        try store.verifyLatestVouchers()
        await store.close()
    }

    /// Requests enqueued one after the other are applied in that order, so consecutive guarded
    /// batches of one channel never meet the guard out of order.
    @Test func enqueuedBatchesApplyInOrder() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"))
        try await store.saveChannel(Fixtures.channel(0))
        let results = Mutex<[Int: Bool]>([:])
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let count = 200
            for i in 0..<count {
                let batch = (1...3).map { Fixtures.voucher(channel: 0, nonce: UInt64(i * 3 + $0)) }
                store.enqueueVouchers(batch) { result in
                    let finished = results.withLock { r in
                        if case .success = result { r[i] = true } else { r[i] = false }
                        return r.count == count
                    }
                    if finished { done.resume() }
                }
            }
        }
        #expect(results.withLock { $0.values.allSatisfy { $0 } })
        #expect(try store.channel(Fixtures.channelID(0))?.latestVoucher?.nonce == 600)
        #expect(try store.highestHistoryNonce(channel: Fixtures.channelID(0)) == 600)
        await store.close()
    }

    @Test func amountsAbove64BitsCompareExactly() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"))
        var channel = Fixtures.channel(0)
        channel.deposit = Amount(.max)
        try await store.saveChannel(channel)
        var v1 = Fixtures.voucher(channel: 0, nonce: 1)
        v1.amount = Amount(UInt128(1) << 64)          // 00..01 00..00
        try await store.recordVoucher(v1)
        var v2 = Fixtures.voucher(channel: 0, nonce: 2)
        v2.amount = Amount(UInt128(UInt64.max))        // 00..00 ff..ff: smaller, though longer in low bytes
        await #expect(throws: StoreError.amountDecreased(channel.id, nonce: 2)) { try await store.recordVoucher(v2) }
        v2.amount = Amount(.max)
        try await store.recordVoucher(v2)
        #expect(try store.channel(channel.id)?.latestVoucher?.amount == Amount(.max))
        await store.close()
    }

    @Test func updatesStateLockedAmountAndCloseInfo() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"))
        let id = Fixtures.channelID(3)
        try await store.saveChannel(Fixtures.channel(3))
        try await store.updateState(channel: id, status: .open, lockedAmount: Amount(500))
        #expect(try store.channel(id)?.lockedAmount == Amount(500))
        let close = ChannelCloseInfo(reason: "cooperative", closedAtMillis: 99, finalNonce: 0, finalAmount: .zero,
                                     settlementReference: "ledger:1")
        try await store.updateState(channel: id, status: .closed, closeInfo: close)
        let loaded = try #require(try store.channel(id))
        #expect(loaded.status == .closed)
        #expect(loaded.closeInfo == close)
        #expect(loaded.lockedAmount == Amount(500))
        try await store.updateState(channel: id, status: .settled)
        #expect(try store.channel(id)?.closeInfo == close)
        await #expect(throws: StoreError.unknownChannel(Fixtures.channelID(4))) {
            try await store.updateState(channel: Fixtures.channelID(4), status: .closed)
        }
        await store.close()
    }

    @Test func receiptsMustChain() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"))
        let id = Fixtures.channelID(0)
        try await store.saveChannel(Fixtures.channel(0))
        await #expect(throws: StoreError.receiptOutOfOrder(id, seq: 2, expected: 1)) {
            try await store.appendReceipt(Fixtures.receipt(channel: 0, seq: 2))
        }
        try await store.appendReceipt(Fixtures.receipt(channel: 0, seq: 1))
        try await store.appendReceipt(Fixtures.receipt(channel: 0, seq: 2))
        var broken = Fixtures.receipt(channel: 0, seq: 3)
        broken.prevHash = Fixtures.receiptHash(channel: 0, seq: 1)
        await #expect(throws: StoreError.receiptChainBroken(id, seq: 3)) { try await store.appendReceipt(broken) }
        await #expect(throws: StoreError.receiptOutOfOrder(id, seq: 2, expected: 3)) {
            try await store.appendReceipt(Fixtures.receipt(channel: 0, seq: 2))
        }
        await #expect(throws: StoreError.unknownChannel(Fixtures.channelID(1))) {
            try await store.appendReceipt(Fixtures.receipt(channel: 1, seq: 1))
        }
        #expect(try store.receipts(channel: id) == [Fixtures.receipt(channel: 0, seq: 1), Fixtures.receipt(channel: 0, seq: 2)])
        await store.close()
    }

    @Test func metadataSetReplaceRemove() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"))
        #expect(try store.metadata(forKey: "node.id") == nil)
        try await store.setMetadata([1, 2, 3], forKey: "node.id")
        try await store.setMetadata([], forKey: "empty")
        #expect(try store.metadata(forKey: "node.id") == [1, 2, 3])
        #expect(try store.metadata(forKey: "empty") == [])
        try await store.setMetadata([4], forKey: "node.id")
        #expect(try store.metadata(forKey: "node.id") == [4])
        try await store.setMetadata(nil, forKey: "node.id")
        #expect(try store.metadata(forKey: "node.id") == nil)
        await store.close()
    }

    /// Many concurrent writers share commits; a refused request in a batch does not fail the others;
    /// everything acknowledged is there after reopening.
    @Test func concurrentWritersShareCommits() async throws {
        let dir = TemporaryDirectory()
        let path = dir.file("c.sqlite")
        let writers = 50, perWriter: UInt64 = 40
        do {
            let store = try ChannelStore(path: path)
            for i in 0..<writers { try await store.saveChannel(Fixtures.channel(i)) }
            let refused = try await withThrowingTaskGroup(of: Int.self, returning: Int.self) { group in
                for w in 0..<writers {
                    group.addTask {
                        var refused = 0
                        for n in 1...perWriter {
                            try await store.recordVoucher(Fixtures.voucher(channel: w, nonce: n))
                            // Every writer also replays its previous nonce: refused, alone.
                            let replay = await storeError { () async throws(StoreError) in
                                try await store.recordVoucher(Fixtures.voucher(channel: w, nonce: n))
                            }
                            if replay?.isStaleVoucher == true { refused += 1 }
                        }
                        return refused
                    }
                }
                return try await group.reduce(0, +)
            }
            #expect(refused == writers * Int(perWriter))
            let stats = store.statistics
            #expect(stats.requests == writers + writers * Int(perWriter))
            #expect(stats.largestBatch > 1)
            #expect(stats.commits < stats.requests)
            print("concurrentWritersShareCommits: \(stats.requests) requests in \(stats.commits) commits, largest batch \(stats.largestBatch)")
            await store.close()
            await #expect(throws: StoreError.closed()) { try await store.recordVoucher(Fixtures.voucher(channel: 0, nonce: 999)) }
        }
        let store = try ChannelStore(path: path)
        for channel in try store.loadChannels() {
            #expect(channel.latestVoucher?.nonce == perWriter)
            #expect(try store.highestHistoryNonce(channel: channel.id) == perWriter)
        }
        await store.close()
    }

    @Test func batchLimitsAreRespected() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"), configuration: StoreConfiguration(maxBatchRequests: 3))
        for i in 0..<30 { try await store.saveChannel(Fixtures.channel(i)) }
        try await withThrowingDiscardingTaskGroup { group in
            for i in 0..<30 { group.addTask { try await store.recordVoucher(Fixtures.voucher(channel: i, nonce: 1)) } }
        }
        #expect(store.statistics.largestBatch <= 3)
        #expect(store.statistics.requests == 60)
        await store.close()
    }
}

/// The error `body` throws, or nil.
func storeError(_ body: () async throws(StoreError) -> Void) async -> StoreError? {
    do {
        try await body()
        return nil
    } catch {
        return error
    }
}
