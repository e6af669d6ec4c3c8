import Foundation
import PaymeshChannels
import PaymeshMessages
import PaymeshTestSupport
import Testing

/// Issue 7 item 9: a close in progress resumes after a crash on either side until both are
/// SETTLED. Each test stops the acting side after every possible number of performed actions
/// (the durable state is its last `.persist` and its books), restarts it from that snapshot,
/// reconnects and lets time pass.
@Suite("Closes resume after a crash")
struct CloseResumeTests {
    enum Start: CaseIterable { case payerCooperative, payeeCooperative, payerUnilateral, payeeUnilateral }

    /// Opens, pays 5 × 10, starts the close with a crash armed after `crashAfter` actions
    /// (counted from the close), runs to the end, heals. Returns nil when the close finished
    /// before the crash point (all points covered).
    static func run(_ start: Start, crashAfter: Int) throws -> CloseSim? {
        var sim = try CloseSim()
        for _ in 0..<5 { try sim.pay(10) }
        try sim.pump()
        sim.crashAfterActions = sim.actionCount + crashAfter
        switch start {
        case .payerCooperative: try sim.close(.payer, cooperative: true)
        case .payeeCooperative: try sim.close(.payee, cooperative: true)
        case .payerUnilateral: try sim.close(.payer, cooperative: false)
        case .payeeUnilateral: try sim.close(.payee, cooperative: false)
        }
        try sim.pump()
        for _ in 0..<3 where sim.crashed == nil {
            try sim.tick(advance: CloseSim.challengeSeconds * 1_000)
            try sim.pump()
        }
        guard let side = sim.crashed else { return nil }
        try sim.restart(side)
        try sim.heal()
        return sim
    }

    @Test(arguments: Start.allCases)
    func everyCrashPointEndsSettledWithExactBalancesOnce(_ start: Start) throws {
        var points = 0
        for k in 1...200 {
            guard let sim = try Self.run(start, crashAfter: k) else { break }
            points += 1
            let context = "\(start), crash after \(k) actions of the \(sim.crashed.map { "\($0)" } ?? "-")"
            #expect(sim.payer.state == .settled, "\(context): payer \(sim.payer.state)")
            #expect(sim.payee.state == .settled, "\(context): payee \(sim.payee.state)")
            for side in [CloseSim.Side.payer, .payee] {
                let p = sim.payout(in: side)
                #expect(p?.paid == 50 && p?.refund == 950 && p?.operations == 1, "\(context): \(side) books \(String(describing: p))")
            }
        }
        #expect(points >= 4, "the close sequence has several crash points")
    }

    /// The three stuck shapes of the issue, one by one, at the machine level.
    @Test func payeeClosingWhilePayerActiveResumes() throws {
        // The payee persisted its proposal and died before sending it.
        var sim = try CloseSim()
        for _ in 0..<5 { try sim.pay(10) }
        try sim.pump()
        try sim.close(.payee, cooperative: true)
        sim.crash(.payee)
        #expect(sim.payee.state == .closing && sim.payer.state == .active)
        try sim.restart(.payee)
        try sim.reconnect()
        try sim.pump()
        #expect(sim.payer.state == .settled && sim.payee.state == .settled)
    }

    @Test func payerClosingWhilePayeeSettledResumes() throws {
        // The payee counter-signed and settled; the payer died before the answer arrived.
        var sim = try CloseSim()
        for _ in 0..<5 { try sim.pay(10) }
        try sim.pump()
        try sim.close(.payer, cooperative: true)
        try sim.deliverToPayee()
        try sim.deliverResults(.payee)
        #expect(sim.payee.state == .settled)
        sim.crash(.payer)
        try sim.restart(.payer)
        #expect(sim.payer.state == .closing)
        try sim.reconnect()
        try sim.pump()
        #expect(sim.payer.state == .settled)
        #expect(sim.payout(in: .payer)?.paid == 50 && sim.payout(in: .payee)?.paid == 50)
    }

    @Test func payoutAppliedButStateStillClosingBecomesSettled() throws {
        // The books applied the payout; the side died before SETTLED was persisted.
        var sim = try CloseSim()
        for _ in 0..<5 { try sim.pay(10) }
        try sim.pump()
        try sim.close(.payer, cooperative: true)
        try sim.deliverToPayee()
        try sim.deliverToPayer()
        #expect(sim.payout(in: .payer)?.paid == 50 && sim.payer.state == .closing) // result not fed back yet
        sim.crash(.payer)
        #expect(sim.payer.state == .closing)
        try sim.restart(.payer)
        try sim.deliverResults(.payer)
        #expect(sim.payer.state == .settled && sim.payout(in: .payer)?.operations == 1)
    }

    /// Without a disconnect, an unanswered cooperative proposal is sent again on its retry timer.
    @Test func unansweredProposalIsRetriedOnATimer() throws {
        var sim = try CloseSim()
        for _ in 0..<5 { try sim.pay(10) }
        try sim.pump()
        try sim.close(.payer, cooperative: true)
        sim.dropFront(.payee) // lost without the connection noticing
        try sim.tick(advance: 10_000)
        #expect(sim.toPayee.contains { if case .paymentClose = $0 { true } else { false } })
        try sim.pump()
        #expect(sim.payer.state == .settled && sim.payee.state == .settled)
    }
}

/// The close/dispute sequence generator of Fuzz/README.md (FuzzCloseSequence) as a seeded
/// property test: a few thousand random sequences, invariants checked after every step.
@Suite("Close sequences (property)")
struct CloseSequencePropertyTests {
    /// Set PAYMESH_CLOSE_SEED to replay one failing seed (printed on failure).
    @Test func randomSequencesKeepTheMoneyInvariants() throws {
        let env = ProcessInfo.processInfo.environment
        let base = env["PAYMESH_CLOSE_SEED"].flatMap(UInt64.init) ?? 0x7a11_c105e
        let count = env["PAYMESH_CLOSE_SEED"] != nil ? 1 : Int(env["PAYMESH_CLOSE_SEQUENCES"] ?? "") ?? 2_000
        var settled = 0, disputedOrClosed = 0
        for n in 0..<count {
            let seed = base &+ UInt64(n)
            var rng = SplitMix64(seed: seed)
            let length = Int.random(in: 4...40, using: &rng)
            var bytes: [UInt8] = []
            for _ in 0..<length {
                // Favour payments, deliveries and closes so that most sequences reach a close.
                let weighted: [UInt8] = [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 4, 5, 6, 7, 8, 9, 9, 10, 11, 12, 13, 14, 15, 15]
                bytes.append(weighted.randomElement(using: &rng)!)
                bytes.append(UInt8.random(in: 0...255, using: &rng))
            }
            do throws(FuzzViolation) {
                let outcome = try CloseSequenceHarness.run(bytes)
                if outcome.payerState == .settled && outcome.payeeState == .settled { settled += 1 }
                if outcome.payerState != .active && outcome.payerState != .open { disputedOrClosed += 1 }
            } catch {
                Issue.record("seed \(seed) (PAYMESH_CLOSE_SEED=\(seed)): \(error); input \(bytes.map { String($0) }.joined(separator: ","))")
                return
            }
        }
        if count > 1 { #expect(settled > count / 10, "enough sequences reach SETTLED on both sides (\(settled) of \(count))") }
    }

    /// Fuzz/Regressions/FuzzCloseSequence through the same harness.
    @Test func fuzzRegressions() throws {
        for input in try TestVectors.fuzzRegressions("FuzzCloseSequence") {
            do throws(FuzzViolation) { _ = try CloseSequenceHarness.run(input.bytes) } catch {
                Issue.record("\(input.name): \(error)")
            }
        }
    }
}
