import Foundation
import PaymeshMessages
import Synchronization
import Testing
@testable import PaymeshStore

/// `StoreConfiguration.inlineCommitAfterIdleMicros`: a hot-path request that finds the writer
/// asleep is committed on the caller's thread, durable when `enqueue…` returns; every other rule of
/// the group-commit writer (order, guards, one writer at a time, close) holds as before.
@Suite struct InlineCommitTests {
    static let inline = StoreConfiguration(inlineCommitAfterIdleMicros: 0)

    @Test func aRequestToAnIdleWriterIsDurableWhenTheCallReturns() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"), configuration: Self.inline)
        try await store.saveChannel(Fixtures.channel(0))
        try await Task.sleep(for: .milliseconds(5)) // the writer goes back to sleep after the insert
        let before = store.statistics
        let done = Mutex<Result<Void, StoreError>?>(nil)
        store.enqueueVouchers([Fixtures.voucher(channel: 0, nonce: 1)]) { result in done.withLock { $0 = result } }
        // Completed before the call returned, and on this thread: readable now.
        #expect(done.withLock { $0 }.map { if case .success = $0 { true } else { false } } == true)
        #expect(try store.channel(Fixtures.channelID(0))?.latestVoucher?.nonce == 1)
        #expect(store.statistics.inlineCommits == before.inlineCommits + 1)
        #expect(store.statistics.commits == before.commits + 1)
        await store.close()
    }

    @Test func aRefusedInlineRequestGetsItsTypedErrorAndWritesNothing() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"), configuration: Self.inline)
        try await store.saveChannel(Fixtures.channel(0))
        try await store.recordVouchers([Fixtures.voucher(channel: 0, nonce: 5)])
        try await Task.sleep(for: .milliseconds(5))
        let done = Mutex<Result<Void, StoreError>?>(nil)
        // A stale nonce: the guard refuses it, inline as on the writer thread.
        store.enqueueVouchers([Fixtures.voucher(channel: 0, nonce: 4)]) { result in done.withLock { $0 = result } }
        guard case .failure(let error) = try #require(done.withLock { $0 }) else { Issue.record("a stale voucher was accepted"); return }
        #expect(error == .staleVoucher(Fixtures.channelID(0), nonce: 4, latest: 5))
        #expect(try store.channel(Fixtures.channelID(0))?.latestVoucher?.nonce == 5)
        // The writer still works (the role went back to it).
        try await store.recordVouchers([Fixtures.voucher(channel: 0, nonce: 6)])
        #expect(try store.highestHistoryNonce(channel: Fixtures.channelID(0)) == 6)
        await store.close()
    }

    /// Several threads enqueue guarded batches of their own channel back to back, never waiting:
    /// some go inline, some to the writer; the guard (nonce strictly above the stored latest) would
    /// refuse any batch applied out of order or by two users of the connection at once.
    @Test func concurrentCallersKeepTheirOrderWhetherInlineOrQueued() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"), configuration: Self.inline)
        let threads = 4, batches = 150
        for c in 0..<threads { try await store.saveChannel(Fixtures.channel(c)) }
        let failures = Mutex<[String]>([])
        let completed = Atomic<Int>(0)
        await withCheckedContinuation { (all: CheckedContinuation<Void, Never>) in
            for c in 0..<threads {
                Thread {
                    for i in 0..<batches {
                        let batch = (1...2).map { Fixtures.voucher(channel: c, nonce: UInt64(i * 2 + $0)) }
                        store.enqueueVouchers(batch) { result in
                            if case .failure(let error) = result { failures.withLock { $0.append("channel \(c) batch \(i): \(error)") } }
                            if completed.add(1, ordering: .sequentiallyConsistent).newValue == threads * batches { all.resume() }
                        }
                        if i % 10 == 0 { usleep(300) } // lets the writer fall asleep now and then
                    }
                }.start()
            }
        }
        #expect(failures.withLock { $0 } == [])
        for c in 0..<threads {
            #expect(try store.channel(Fixtures.channelID(c))?.latestVoucher?.nonce == UInt64(batches * 2))
            #expect(try store.highestHistoryNonce(channel: Fixtures.channelID(c)) == UInt64(batches * 2))
        }
        let s = store.statistics
        #expect(s.inlineCommits > 0, "no request found the writer asleep: the inline path was not exercised")
        #expect(s.inlineCommits < s.commits, "every request went inline: the writer path was not exercised")
        try store.verifyLatestVouchers()
        await store.close()
    }

    @Test func closeAfterInlineCommitsFinishesAndRefusesLaterRequests() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"), configuration: Self.inline)
        try await store.saveChannel(Fixtures.channel(0))
        try await Task.sleep(for: .milliseconds(5))
        for n in 1...3 { store.enqueueVouchers([Fixtures.voucher(channel: 0, nonce: UInt64(n))]) { _ in } }
        await store.close()
        let done = Mutex<Result<Void, StoreError>?>(nil)
        store.enqueueVouchers([Fixtures.voucher(channel: 0, nonce: 4)]) { result in done.withLock { $0 = result } }
        guard case .failure(let error) = try #require(done.withLock { $0 }) else { Issue.record("a write after close was accepted"); return }
        #expect(error == .closed())
        let reopened = try ChannelStore(path: dir.file("c.sqlite"))
        #expect(try reopened.channel(Fixtures.channelID(0))?.latestVoucher?.nonce == 3)
        await reopened.close()
    }

    /// Without the setting (the store's default) every request goes through the writer thread.
    @Test func offByDefault() async throws {
        let dir = TemporaryDirectory()
        let store = try ChannelStore(path: dir.file("c.sqlite"))
        try await store.saveChannel(Fixtures.channel(0))
        try await Task.sleep(for: .milliseconds(5))
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            store.enqueueVouchers([Fixtures.voucher(channel: 0, nonce: 1)]) { c.resume(with: $0.mapError { $0 as Error }) }
        }
        #expect(store.statistics.inlineCommits == 0)
        await store.close()
    }
}
