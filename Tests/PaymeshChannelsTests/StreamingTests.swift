import PaymeshChannels
import PaymeshMessages
import Testing

@Suite("Streaming payments")
struct StreamingTests {
    static func session(_ unit: UsageUnit, price: UInt128, cap: UInt128 = .max) -> StreamingSession {
        StreamingSession(id: "s1", rate: StreamRate(unit: unit, price: price, asset: K.usdc), cap: cap, now: K.t0)
    }

    @Test(arguments: [UsageUnit.call, .token, .byte])
    func perUnitUsageIsPaidCumulatively(unit: UsageUnit) throws {
        var pair = try Pair(deposit: 10_000)
        var s = Self.session(unit, price: 3)
        for units in [1, 10, 100] as [UInt64] {
            let step = s.recordUsage(units: units, now: pair.now, available: pair.payer.available)
            #expect(step == .pay(UInt128(units) * 3))
            guard case .pay(let amount) = step else { continue }
            pair.runPayer(try pair.payer.pay(amount: amount, taskID: s.taskID, now: pair.now, policy: &pair.policy))
            pair.pump()
        }
        #expect(s.paid == 333 && s.paidUnits == 111)
        #expect(pair.payee?.receivedAmount == 333 && pair.payee?.latestVoucher?.taskID == "stream:s1")
        #expect(s.recordUsage(units: 0, now: pair.now, available: 1) == StreamingSession.Step.none)
    }

    @Test func perSecondBillsElapsedTimeExactly() {
        var s = Self.session(.second, price: 1_500) // 1.5 atomic units per ms
        #expect(s.onTimerTick(now: K.t0 + 1_000, available: .max) == .pay(1_500))
        #expect(s.onTimerTick(now: K.t0 + 1_001, available: .max) == .pay(1))      // floor(1.5) = 1
        #expect(s.onTimerTick(now: K.t0 + 1_002, available: .max) == .pay(2))      // 1,503 − 1,501
        #expect(s.onTimerTick(now: K.t0 + 1_002, available: .max) == StreamingSession.Step.none)
        #expect(s.paid == 1_503)
        var slow = Self.session(.second, price: 1) // 1 unit per 1,000 ms
        #expect(slow.onTimerTick(now: K.t0 + 999, available: .max) == StreamingSession.Step.none)
        #expect(slow.onTimerTick(now: K.t0 + 1_000, available: .max) == .pay(1)) // sub-unit time was carried
        #expect(slow.paidUnits == 1)
    }

    @Test func pausedTimeIsNotBilled() {
        var s = Self.session(.second, price: 10)
        #expect(s.onTimerTick(now: K.t0 + 2_000, available: .max) == .pay(20))
        s.pause()
        #expect(s.onTimerTick(now: K.t0 + 60_000, available: .max) == StreamingSession.Step.none)
        s.resume(now: K.t0 + 60_000)
        #expect(s.onTimerTick(now: K.t0 + 61_000, available: .max) == .pay(10))
        s.stop()
        #expect(s.recordUsage(units: 5, now: K.t0, available: .max) == StreamingSession.Step.none)
    }

    @Test func capAutoPausesWithoutPaying() {
        var s = Self.session(.token, price: 10, cap: 95)
        #expect(s.recordUsage(units: 9, now: K.t0, available: .max) == .pay(90))
        #expect(s.recordUsage(units: 1, now: K.t0, available: .max) == .paused(.capReached, unpaid: 10))
        #expect(s.status == .paused(.capReached) && s.paid == 90)
        #expect(s.recordUsage(units: 1, now: K.t0, available: .max) == StreamingSession.Step.none)
        var exact = Self.session(.call, price: 5, cap: 10)
        #expect(exact.recordUsage(units: 2, now: K.t0, available: .max) == .pay(10)) // reaching the cap exactly is fine
    }

    @Test func channelBalanceAutoPauses() throws {
        var pair = try Pair(deposit: 25)
        var s = Self.session(.call, price: 10)
        for _ in 0..<2 {
            guard case .pay(let a) = s.recordUsage(units: 1, now: pair.now, available: pair.payer.available) else {
                Issue.record("expected pay"); return
            }
            pair.runPayer(try pair.payer.pay(amount: a, taskID: s.taskID, now: pair.now, policy: &pair.policy))
        }
        #expect(s.recordUsage(units: 1, now: pair.now, available: pair.payer.available) == .paused(.channelBalance, unpaid: 10))
        s.resume(now: pair.now)
        #expect(s.status == .running)
    }

    @Test func aRaisedCapLetsASessionPausedAtItsCapResume() {
        var s = Self.session(.call, price: 10, cap: 20)
        #expect(s.recordUsage(units: 2, now: K.t0, available: .max) == .pay(20))
        #expect(s.recordUsage(units: 1, now: K.t0, available: .max) == .paused(.capReached, unpaid: 10))
        #expect(!s.setCap(19) && !s.setCap(0) && s.cap == 20, "a cap below what was paid is refused")
        #expect(s.setCap(40) && s.cap == 40)
        s.resume(now: K.t0)
        #expect(s.status == .running)
        #expect(s.recordUsage(units: 2, now: K.t0, available: .max) == .pay(20))
        #expect(s.recordUsage(units: 1, now: K.t0, available: .max) == .paused(.capReached, unpaid: 10))
        #expect(s.paid == 40 && s.paidUnits == 4)
    }

    @Test func refusedPaymentPausesAndIsNotCounted() {
        var s = Self.session(.call, price: 7)
        #expect(s.recordUsage(units: 1, now: K.t0, available: .max) == .pay(7))
        s.paymentRefused(7, code: PaymeshErrorCode.rateLimited.rawValue)
        #expect(s.paid == 0 && s.status == .paused(.paymentRefused(code: 1504)))
    }

    @Test func overflowPausesInsteadOfWrapping() {
        var s = Self.session(.token, price: .max)
        #expect(s.recordUsage(units: 2, now: K.t0, available: .max) == .paused(.overflow, unpaid: .max))
        var t = Self.session(.second, price: .max)
        #expect(t.onTimerTick(now: K.t0 + 1_000, available: .max) == .pay(.max)) // max × 1000 / 1000 fits exactly
        var u = Self.session(.second, price: .max)
        #expect(u.onTimerTick(now: K.t0 + 1_001, available: .max) == .paused(.overflow, unpaid: .max))
    }
}
