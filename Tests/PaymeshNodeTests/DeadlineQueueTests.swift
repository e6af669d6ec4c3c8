import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import PaymeshTestSupport
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
        var rng = SplitMix64(seed: 42)
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

@Suite("Waiters (calls resumed by the events they wait for)")
struct WaitersTests {
    private static func channel(_ byte: UInt8) -> ChannelID { try! ChannelID(hex: "0x" + String(repeating: "0\(byte)", count: 32)) }

    @Test func eachWaiterIsResumedOnceByItsChannelPeerDeadlineOrShutdown() async {
        let box = WaitersBox()
        let a = Self.channel(1), b = Self.channel(2)
        let peer = address(7)
        let soon = NodeInstant(nanoseconds: 10), later = NodeInstant(nanoseconds: 20)
        func start(_ channels: Set<ChannelID>, _ peers: Set<EthereumAddress>, _ deadline: NodeInstant, _ n: Int) async -> Task<Wake, Never> {
            let t = Task { await box.wait(channels: channels, peers: peers, until: deadline) }
            while await box.count < n { await Task.yield() }
            return t
        }
        let onA = await start([a], [], later, 1)
        let onPeer = await start([b], [peer], later, 2)
        let timedOut = await start([b], [], soon, 3)
        let stopped = await start([], [], later, 4)
        #expect(await box.admitted == 4)
        #expect(await box.wake(channel: a) == 1)   // only the waiter of channel a
        #expect(await box.wake(channel: a) == 0)   // resumed once: gone
        #expect(await box.wake(peer: peer) == 1)
        #expect(await box.fireAll(at: soon) == 1)  // the one whose deadline passed; not the later one
        #expect(await box.stopAll() == 1)
        let results = [await onA.value, await onPeer.value, await timedOut.value, await stopped.value]
        #expect(results == [.event, .event, .deadline, .shutdown])
        let (left, admitted) = (await box.count, await box.admitted)
        #expect(left == 0 && admitted == 0)
    }

    @Test func admissionIsBounded() {
        var w = Waiters()
        var tokens: [UInt64] = []
        while let t = w.admit() { tokens.append(t) }
        #expect(tokens.count == Waiters.maxWaiters && Set(tokens).count == tokens.count)
        w.release(tokens[0])
        let again = w.admit()
        #expect(again != nil && w.admitted == Waiters.maxWaiters)
    }
}

private actor WaitersBox {
    var waiters = Waiters()
    var tokens: [UInt64] = []
    var count: Int { waiters.count }
    var admitted: Int { waiters.admitted }

    func wait(channels: Set<ChannelID>, peers: Set<EthereumAddress>, until deadline: NodeInstant) async -> Wake {
        let token = waiters.admit()!
        tokens.append(token)
        defer { waiters.release(token) }
        return await withCheckedContinuation { c in waiters.add(token, until: deadline, channels: channels, peers: peers, c) }
    }

    func wake(channel: ChannelID) -> Int {
        let list = waiters.take(channel: channel)
        for c in list { c.resume(returning: .event) }
        return list.count
    }

    func wake(peer: EthereumAddress) -> Int {
        let list = waiters.take(peer: peer)
        for c in list { c.resume(returning: .event) }
        return list.count
    }

    /// What the deadline queue does when `at` passes: every token's deadline entry fires.
    func fireAll(at now: NodeInstant) -> Int {
        let due = tokens.compactMap { waiters.take($0, dueAt: now) }
        for c in due { c.resume(returning: .deadline) }
        return due.count
    }

    func stopAll() -> Int {
        let list = waiters.takeAll()
        for c in list { c.resume(returning: .shutdown) }
        return list.count
    }
}
