@testable import PaymeshNode
import Testing

@Suite("Deadline queue (min-heap of deadlines, fed by the injected clock)")
struct DeadlineQueueTests {
    private func at(_ ms: UInt64) -> NodeInstant { NodeInstant(nanoseconds: ms * 1_000_000) }

    @Test func popsDueKeysEarliestFirstAndReportsNewEarliest() {
        var q = DeadlineQueue<String>()
        #expect(q.earliest == nil)
        let first = q.schedule("c", at: at(30))   // first entry: arm
        let earlier = q.schedule("a", at: at(10)) // earlier: re-arm
        let later = q.schedule("b", at: at(20))   // later: the armed sleeper stays
        let again = q.schedule("a", at: at(10))   // same key and instant: one entry
        #expect(first && earlier && !later && !again)
        #expect(q.count == 3 && q.earliest == at(10))
        let none = q.popDue(now: at(5)), two = q.popDue(now: at(20))
        #expect(none.isEmpty && two == ["a", "b"])
        #expect(q.earliest == at(30))
        let last = q.popDue(now: at(100))
        #expect(last == ["c"])
        #expect(q.isEmpty && q.earliest == nil)
    }

    @Test func sameKeyAtTwoInstantsFiresTwice() {
        var q = DeadlineQueue<Int>()
        q.schedule(1, at: at(10))
        q.schedule(1, at: at(20))
        let first = q.popDue(now: at(10)), second = q.popDue(now: at(20))
        #expect(first == [1] && second == [1])
    }

    @Test func manyRandomDeadlinesComeOutSorted() {
        var q = DeadlineQueue<Int>()
        var rng = SeededRandom(state: 42)
        var deadlines: [UInt64] = []
        for i in 0..<2_000 {
            let d = UInt64.random(in: 0..<1_000_000, using: &rng)
            deadlines.append(d)
            q.schedule(i, at: NodeInstant(nanoseconds: d))
        }
        var popped: [UInt64] = []
        var now: UInt64 = 0
        while !q.isEmpty {
            now += 10_000
            popped += q.popDue(now: NodeInstant(nanoseconds: now)).map { deadlines[$0] }
        }
        #expect(popped == deadlines.sorted())
    }

    /// What the payments driver does with it: one sleeper on the clock until the earliest deadline,
    /// re-armed when an earlier one arrives; moving the manual clock fires exactly what is due.
    @Test func oneSleeperOnAManualClockFiresWhatIsDue() async throws {
        let clock = ManualClock()
        let driver = QueueDriver(clock: clock)
        await driver.schedule("late", afterMillis: 500)
        await driver.schedule("early", afterMillis: 100)
        await driver.schedule("middle", afterMillis: 300)
        #expect(try await eventually { clock.sleeperCount == 1 && clock.nextDeadline == clock.now.advanced(by: .milliseconds(100)) })
        clock.advance(by: .milliseconds(300))
        #expect(try await eventually { await driver.fired == ["early", "middle"] })
        #expect(try await eventually { clock.sleeperCount == 1 })
        clock.advance(by: .milliseconds(200))
        #expect(try await eventually { await driver.fired == ["early", "middle", "late"] })
        #expect(try await eventually { clock.sleeperCount == 0 })
    }
}

/// A minimal driver: the queue and the sleeper `PaymentsService+Deadlines` uses.
private actor QueueDriver {
    let clock: ManualClock
    var queue = DeadlineQueue<String>()
    var sleeper = DeadlineSleeper()
    var fired: [String] = []

    init(clock: ManualClock) { self.clock = clock }

    func schedule(_ key: String, afterMillis ms: Int64) {
        if queue.schedule(key, at: clock.now.advanced(by: .milliseconds(ms))) { arm() }
    }

    private func arm() { sleeper.arm(queue.earliest, clock: clock) { [weak self] g in await self?.due(g) } }

    private func due(_ g: UInt64) {
        guard sleeper.woke(g) else { return }
        fired += queue.popDue(now: clock.now)
        arm()
    }
}
