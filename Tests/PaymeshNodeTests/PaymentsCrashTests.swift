import Foundation
import PaymeshConsole
import PaymeshMessages
import PaymeshNode
import PaymeshStore
import PaymeshTestSupport
import Testing

/// Two real `paymesh start` processes: payments run from the console while the payer or the payee
/// is SIGKILLed at random moments; each victim restarts on its data directory. Nothing the payer
/// reported as acknowledged may be lost, no nonce may be reused, and both sides must agree. Each
/// test prints its seed (the kill moments); PAYMESH_CRASH_SEED=<n> replays it.
@Suite(.serialized) struct PaymentsCrashTests {
    final class Acks: @unchecked Sendable {
        private let lock = NSLock()
        private var nonces: [UInt64] = []
        private var stopped = false
        func stop() { lock.withLock { stopped = true } }
        func reset() { lock.withLock { stopped = false } }
        var isStopped: Bool { lock.withLock { stopped } }
        func add(_ n: UInt64) { lock.withLock { nonces.append(n) } }
        var all: [UInt64] { lock.withLock { nonces } }
    }

    final class Flag: @unchecked Sendable {
        private let lock = NSLock()
        private var value = false
        func set() { lock.withLock { value = true } }
        var isSet: Bool { lock.withLock { value } }
    }

    /// The payee's latest voucher as its (dead) node left it on disk.
    static func storedLatest(_ path: String, _ channel: ChannelID) async throws -> UInt64 {
        let store = try ChannelStore(path: path)
        defer { Task { await store.close() } }
        return try store.channel(channel)?.latestVoucher?.nonce ?? 0
    }

    @Test(.timeLimit(.minutes(5)))
    func sigkillDuringPaymentsLosesNothingAcknowledged() async throws {
        let payee = PaymentNodeProcess()
        let payer = PaymentNodeProcess(peers: [payee.port])
        let keep = Flag()
        defer {
            payer.kill9()
            payee.kill9()
            if !keep.isSet { removeDirectory(payer.directory); removeDirectory(payee.directory) }
        }
        let payeeID = try await payee.start()
        try await payer.start()
        #expect(try await eventually(20) {
            try await payer.call("peers")["peers"]?.arrayValue?.contains { $0["state"] == "connected" } == true
        })
        _ = try await payer.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000000000000"])
        let open = try await payer.call("channel.open", ["peer": .string(payeeID), "asset": "USDC", "decimals": 6, "deposit": "1000000000"])
        let channelText = try #require(open["channel"]?.stringValue)
        let channel = try ChannelID(hex: channelText)
        let ch = JSONValue.string(channelText)

        let acks = Acks()
        var rng = SplitMix64(seed: TestSeed.resolve("sigkillDuringPaymentsLosesNothingAcknowledged", variable: "PAYMESH_CRASH_SEED"))
        let rounds = 6
        for round in 0..<rounds {
            let victim = round % 2 == 0 ? payee : payer // alternate, random moments
            // Pay in a loop (every payment 1 unit, so a voucher's cumulative amount equals its nonce).
            acks.reset()
            let paying = Task {
                while !acks.isStopped {
                    guard let r = try? await payer.call("pay", ["channel": ch, "amount": "1", "count": 400]) else {
                        try? await Task.sleep(for: .milliseconds(50))
                        continue
                    }
                    if let n = r["ackedNonce"]?.intValue, n > 0 { acks.add(UInt64(n)) }
                }
            }
            try await Task.sleep(for: .milliseconds(Int.random(in: 150...900, using: &rng)))
            victim.kill9()
            if victim === payee {
                // What the payee can claim is what it persisted: every acknowledged nonce so far is ≤ it.
                let held = try await Self.storedLatest(payee.storePath, channel)
                let reported = acks.all.max() ?? 0
                #expect(reported <= held, "round \(round): payer saw ack \(reported), payee's disk holds \(held)")
            }
            try await Task.sleep(for: .milliseconds(200))
            let before = acks.all.count
            try await victim.start()
            // Payments continue after the restart: wait for an acknowledged payment, not for a time.
            let resumed = try await eventually(60) { acks.all.count > before }
            #expect(resumed, "round \(round): no payment was acknowledged after the restart")
            acks.stop()
            _ = await paying.result
            // After re-establishment both agree on the latest voucher and it is acknowledged.
            let converged = try await eventually(30) {
                guard let a = try? await payer.call("channel.get", ["channel": ch]),
                      let b = try? await payee.call("channel.get", ["channel": ch]) else { return false }
                return a["nonce"] == b["nonce"] && a["paid"] == b["paid"] && a["ackedNonce"] == a["nonce"] && a["unacknowledged"] == 0
            }
            if !converged {
                let a = try? await payer.call("channel.get", ["channel": ch]), b = try? await payee.call("channel.get", ["channel": ch])
                Issue.record("round \(round): payer and payee did not converge: payer \(a?.description ?? "-") payee \(b?.description ?? "-") logs \(payer.directory) \(payee.directory)")
                keep.set()
                return
            }
        }

        let payerView = try await payer.call("channel.get", ["channel": ch])
        let payeeView = try await payee.call("channel.get", ["channel": ch])
        let latest = try #require(payeeView["nonce"]?.intValue)
        #expect(payerView["nonce"] == payeeView["nonce"] && payerView["paid"] == payeeView["paid"])
        let reported = acks.all
        #expect(reported.count >= rounds, "too few acknowledged payments were reported: \(reported.count)")
        #expect(reported.allSatisfy { $0 <= UInt64(latest) })
        #expect(payeeView["paid"] == .string(String(latest)), "every payment is 1 unit: cumulative amount = nonce")

        // Histories: strictly increasing nonces, amount = nonce (one amount per nonce, never reused).
        for node in [payee, payer] {
            var after: Int64 = 0
            var rows = 0
            while true {
                let page = try #require(try await node.call("channel.history", ["channel": ch, "after": .int(after), "limit": 50_000])["vouchers"]?.arrayValue)
                if page.isEmpty { break }
                for v in page {
                    let nonce = try #require(v["nonce"]?.intValue)
                    #expect(nonce > after && v["amount"] == .string(String(nonce)), "history row \(nonce) after \(after): \(v)")
                    after = nonce
                }
                rows += page.count
            }
            #expect(after == Int64(latest) && rows > 0)
        }

        // Close and settle on both local ledgers.
        let closed = try await payer.call("channel.close", ["channel": ch, "timeout_ms": 30_000])
        #expect(closed["state"] == "SETTLED" && closed["close"]?["finalNonce"] == .int(Int64(latest)))
        #expect(try await eventually(20) { try await payee.call("channel.get", ["channel": ch])["state"] == "SETTLED" })
        let payeeBooks = try await payee.call("balance", ["asset": "USDC"])
        #expect(payeeBooks["wallets"] == [["asset": "USDC", "decimals": 6, "amount": .string(String(latest))]])
        let payerBooks = try await payer.call("balance", ["asset": "USDC"])
        #expect(payerBooks["wallets"] == [["asset": "USDC", "decimals": 6, "amount": .string(String(1_000_000_000_000 - latest))]])
        payer.stop()
        payee.stop()
    }

    /// Issue 7 item 9: SIGKILL during cooperative closes. Each round opens a channel, pays 5 × 10,
    /// starts a cooperative close from the payer or the payee and kills one side a random moment
    /// later (0–40 ms: before, during or after the close's writes); the victim restarts on its data
    /// directory. Both nodes must reach SETTLED with the payout applied once in each book.
    /// Prints its seed; PAYMESH_CRASH_SEED=<n> replays one run.
    @Test(.timeLimit(.minutes(5)))
    func sigkillDuringCooperativeCloseEndsSettledOnBothSides() async throws {
        let seed = TestSeed.resolve("sigkillDuringCooperativeCloseEndsSettledOnBothSides", variable: "PAYMESH_CRASH_SEED")
        var rng = SplitMix64(seed: seed)
        let payee = PaymentNodeProcess()
        let payer = PaymentNodeProcess(peers: [payee.port])
        let keep = Flag()
        defer {
            payer.kill9()
            payee.kill9()
            if !keep.isSet { removeDirectory(payer.directory); removeDirectory(payee.directory) }
        }
        let payeeID = try await payee.start()
        try await payer.start()
        let funds: Int64 = 1_000_000
        _ = try await payer.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": .string(String(funds))])
        let rounds = 4
        for round in 0..<rounds {
            #expect(try await eventually(30) {
                try await payer.call("peers")["peers"]?.arrayValue?.contains { $0["state"] == "connected" } == true
            })
            let open = try await payer.call("channel.open", ["peer": .string(payeeID), "asset": "USDC", "decimals": 6, "deposit": "1000"])
            let ch = try #require(open["channel"])
            let paid = try await payer.call("pay", ["channel": ch, "amount": "10", "count": 5])
            #expect(paid["ackedAmount"] == "50")
            let closer = Bool.random(using: &rng) ? payer : payee
            let victim = Bool.random(using: &rng) ? payer : payee
            let delay = Int.random(in: 0...40, using: &rng)
            let closing = Task { try? await closer.call("channel.close", ["channel": ch, "mode": "cooperative", "wait": false]) }
            try await Task.sleep(for: .milliseconds(delay))
            victim.kill9()
            _ = await closing.value
            try await victim.start()
            let who = "round \(round) (seed \(seed)): \(closer === payer ? "payer" : "payee") closes, \(victim === payer ? "payer" : "payee") killed after \(delay) ms"
            // A close that had not started before the kill is started again now.
            let started = try await eventually(5) { try await closer.call("channel.get", ["channel": ch])["state"] != "ACTIVE" }
            if !started { _ = try? await closer.call("channel.close", ["channel": ch, "mode": "cooperative", "wait": false]) }
            for node in [payer, payee] {
                let settled = try await eventually(60) { try await node.call("channel.get", ["channel": ch])["state"] == "SETTLED" }
                if !settled {
                    Issue.record("\(who): \(node === payer ? "payer" : "payee") is \(try await node.call("channel.get", ["channel": ch])["state"] ?? "-"); logs in \(payer.directory) \(payee.directory)")
                    keep.set()
                    return
                }
            }
            let payeeBooks = try await payee.call("balance", ["asset": "USDC"])
            #expect(payeeBooks["wallets"] == [["asset": "USDC", "decimals": 6, "amount": .string(String(50 * (round + 1)))]], "\(who)")
            let payerBooks = try await payer.call("balance", ["asset": "USDC"])
            #expect(payerBooks["wallets"] == [["asset": "USDC", "decimals": 6, "amount": .string(String(funds - Int64(50 * (round + 1))))]], "\(who)")
        }
        payer.stop()
        payee.stop()
    }
}
