import PaymeshChannels
import PaymeshMessages
@testable import PaymeshNode
import PaymeshNodeTestSupport
import Testing

/// The node's book of streaming sessions (sans-IO): resume with a new cap, and the bounded
/// history of stopped sessions that `stream.info` and `stream.list` show (Specs/console.md §8).
@Suite struct StreamSessionsTests {
    static let channel = try! ChannelID(hex: "0x" + String(repeating: "ab", count: 32))
    static let rate = StreamRate(unit: .call, price: 5, asset: TestNetwork.usdc)

    @Test func resumeRaisesTheCapAndRefusesStoppedOrUnknownSessions() {
        var book = StreamSessions()
        let name = book.start(channel: Self.channel, rate: Self.rate, cap: 10, now: 0)
        #expect(book.recordUsage(name, units: 2, now: 0, available: .max) == StreamingSession.Step.pay(10))
        book.paid(name, nonce: 1)
        #expect(book.recordUsage(name, units: 1, now: 0, available: .max) == StreamingSession.Step.paused(.capReached, unpaid: 5))
        #expect(book.view(name)?.status == "paused:capReached")
        #expect(book.resume(name, cap: 9, now: 1) == StreamSessions.ResumeRefusal.capBelowPaid(paid: 10))
        #expect(book.view(name)?.status == "paused:capReached" && book.view(name)?.cap == 10)
        #expect(book.resume(name, cap: 20, now: 1) == nil)
        #expect(book.view(name)?.status == "running" && book.view(name)?.cap == 20)
        #expect(book.recordUsage(name, units: 1, now: 1, available: .max) == StreamingSession.Step.pay(5))
        #expect(book.resume("s99", cap: nil, now: 1) == StreamSessions.ResumeRefusal.unknown)
        let last = book.stop(name)
        #expect(last?.status == "stopped" && last?.paid == 15 && last?.vouchers == 1)
        #expect(book.resume(name, cap: nil, now: 2) == StreamSessions.ResumeRefusal.stopped)
        #expect(book.channel(of: name) == nil && book.count == 0, "a stopped session no longer runs or counts")
        #expect(book.view(name)?.status == "stopped" && book.view(name)?.paid == 15)
    }

    @Test func theNewestStoppedSessionsAreKeptAndListedWithTheLiveOnes() {
        var book = StreamSessions()
        let total = StreamSessions.maxStopped + 5
        let names = (0..<total).map { _ in book.start(channel: Self.channel, rate: Self.rate, cap: 100, now: 0) }
        for name in names.dropLast(2) { _ = book.stop(name) }
        _ = book.recordUsage(names[total - 1], units: 100, now: 0, available: .max) // passes the cap: paused
        let listed = book.views
        // 2 live (one running, one paused) + the newest maxStopped stopped; the 3 oldest forgotten.
        #expect(listed.count == StreamSessions.maxStopped + 2)
        #expect(listed.map(\.id) == names.dropFirst(3).map { $0 }, "by number: s4 … s\(total)")
        #expect(listed.suffix(2).map(\.status) == ["running", "paused:capReached"])
        #expect(book.view(names[0]) == nil && book.view(names[3])?.status == "stopped")
    }
}
