import PaymeshTestSupport
import Testing
@testable import PaymeshNode

@Suite struct NodeClockTests {
    @Test func manualClockResumesSleepersInDeadlineOrderOnlyWhenAdvanced() async throws {
        let clock = ManualClock()
        let order = OrderLog()
        let start = clock.now
        let late = Task { try await clock.sleep(until: start.advanced(by: .seconds(10))); await order.append("late") }
        let early = Task { try await clock.sleep(until: start.advanced(by: .seconds(1))); await order.append("early") }
        while clock.sleeperCount < 2 { await Task.yield() }
        #expect(clock.nextDeadline == start.advanced(by: .seconds(1)))
        clock.advance(by: .milliseconds(999))
        #expect(clock.sleeperCount == 2) // nobody is due yet
        clock.advance(by: .milliseconds(1))
        try await early.value
        #expect(await order.entries == ["early"])
        #expect(clock.sleeperCount == 1)
        clock.advance(by: .seconds(9))
        try await late.value
        #expect(await order.entries == ["early", "late"])
        #expect(clock.unixMillis == clock.startUnixMillis + 10_000)
    }

    @Test func cancellingASleeperEndsItWithCancellationError() async throws {
        let clock = ManualClock()
        let sleeper = Task { try await clock.sleep(for: .seconds(60)) }
        while clock.sleeperCount < 1 { await Task.yield() }
        sleeper.cancel()
        await #expect(throws: CancellationError.self) { try await sleeper.value }
        #expect(clock.sleeperCount == 0)
    }

    @Test func aPastDeadlineReturnsAtOnce() async throws {
        let clock = ManualClock()
        clock.advance(by: .seconds(5))
        try await clock.sleep(until: NodeInstant(nanoseconds: 1))
        #expect(clock.instant(atUnixMillis: clock.startUnixMillis) == clock.now)
        #expect(clock.instant(atUnixMillis: clock.unixMillis + 2_000) == clock.now.advanced(by: .seconds(2)))
    }

    @Test func instantsSaturateInsteadOfWrapping() {
        let zero = NodeInstant(nanoseconds: 0)
        #expect(zero.advanced(by: .seconds(-1)) == zero)
        let max = NodeInstant(nanoseconds: .max)
        #expect(max.advanced(by: .seconds(1)) == max)
        #expect(zero.duration(to: NodeInstant(nanoseconds: 1_500_000)) == .microseconds(1_500))
    }

    @Test func seededRandomnessReplays() {
        let a = NodeRandom(SplitMix64(seed: 7)), b = NodeRandom(SplitMix64(seed: 7))
        #expect(a.bytes(32) == b.bytes(32))
        #expect(a.next() == b.next())
        var viewA = a.generatorView, viewB = b.generatorView
        #expect(UInt64.random(in: 0...1_000, using: &viewA) == UInt64.random(in: 0...1_000, using: &viewB))
    }
}

private actor OrderLog {
    var entries: [String] = []
    func append(_ s: String) { entries.append(s) }
}
