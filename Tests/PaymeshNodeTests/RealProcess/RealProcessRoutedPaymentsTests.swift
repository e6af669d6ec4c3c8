import Foundation
import PaymeshConsole
import PaymeshNode
import PaymeshTestSupport
import Testing

/// Routed payments across real `paymesh start` processes on loopback (issue 10): a 5-node line
/// 0 → 1 → 2 → 3 → 4 learns its channels by gossip; node 0 pays node 3 and node 1 pays node 4 (3
/// hops each, both through node 2) while node 2 is SIGKILLed at random moments and restarted
/// (`PAYMESH_TEST_SEED` replays the moments). Afterwards no HTLC is pending anywhere (short
/// expiries: `--htlc-expiry-delta 2`), no payment is left pending, every payment that succeeded —
/// and only those — is paid at every hop with exact fees, and both ends of every channel agree.
@Suite(.serialized) struct RealProcessRoutedPaymentsTests {
    init() throws {
        try #require(PaymeshBinary.exists, "build the paymesh executable first (swift build --build-tests): \(PaymeshBinary.path)")
    }

    static let feeBase: UInt64 = 2
    static let feePPM: UInt64 = 10_000
    static let extra = ["--no-mdns", "--asset", "USDC:6", "--gossip-stale", "20", "--fee-base", "\(feeBase)", "--fee-ppm", "\(feePPM)",
                        "--htlc-expiry-delta", "2"]

    /// The fee a forwarder charges for forwarding `amount` (Specs/messages.md §4.8, rounded down).
    static func fee(_ amount: UInt64) -> UInt64 { feeBase + amount * feePPM / 1_000_000 }

    /// The nodes of the line; node 2 is replaced when it restarts.
    final class Line: @unchecked Sendable {
        private let lock = NSLock()
        private var nodes: [NodeProcess]
        init(_ nodes: [NodeProcess]) { self.nodes = nodes }
        subscript(i: Int) -> NodeProcess {
            get { lock.withLock { nodes[i] } }
            set { lock.withLock { nodes[i] = newValue } }
        }
        var all: [NodeProcess] { lock.withLock { nodes } }
    }

    static func connect(_ a: NodeProcess, _ b: NodeProcess) async throws {
        _ = try await a.call("connect", ["address": .string(b.listen.description)])
    }

    static func journal(_ node: NodeProcess) async throws -> [JSONValue] {
        try await node.call("payments.list")["payments"]?.arrayValue ?? []
    }

    /// Whether `from` finds a 3-hop route to `to` and knows every node of the line (a route needs
    /// each hop's node announcement: its onion key).
    static func route(_ from: NodeProcess, _ to: NodeProcess, line: [NodeProcess]) async -> Bool {
        let found = try? await from.call("route.find", ["to": .string(to.id), "amount": "1000", "asset": "USDC"])
        let announced = Set((try? await from.call("graph.nodes"))?["nodes"]?.arrayValue?.compactMap { $0["id"]?.stringValue?.lowercased() } ?? [])
        return (found?["routes"]?.arrayValue?.first?["hops"]?.arrayValue?.count ?? 0) == 3
            && line.allSatisfy { $0 === from || announced.contains($0.id.lowercased()) }
    }

    @Test(.timeLimit(.minutes(3))) func aFiveNodeLinePaysOverThreeHopsWhileAForwarderIsKilled() async throws {
        let seed = TestSeed.resolve("RealProcessRoutedPaymentsTests")
        let reaper = Reaper()
        defer { reaper.killAll() }
        try await withTimeout(150) {
            let directories = (0..<5).map { _ in reaper.nodeDirectory() }
            let started = try await withThrowingTaskGroup(of: (Int, NodeProcess).self) { group in
                for (i, dir) in directories.enumerated() {
                    group.addTask { (i, try await NodeProcess(dataDir: dir, extra: Self.extra, readyTimeout: 60)) }
                }
                var all: [(Int, NodeProcess)] = []
                for try await s in group { all.append(s) }
                return all.sorted { $0.0 < $1.0 }.map { reaper.track($0.1) }
            }
            let line = Line(started)
            for i in 0..<4 { try await Self.connect(started[i], started[i + 1]) }
            var channels: [String] = []
            for i in 0..<4 {
                _ = try await started[i].call("ledger.fund", ["asset": "USDC", "amount": "100000000"])
                let opened = try await started[i].call("channel.open", ["peer": .string(started[i + 1].id), "asset": "USDC",
                                                                         "deposit": "10000000"])
                channels.append(try #require(opened["channel"]?.stringValue ?? opened["id"]?.stringValue))
            }
            let gossip = ContinuousClock.now
            #expect(try await eventually(40) {
                let first = await Self.route(started[0], started[3], line: started)
                let second = await Self.route(started[1], started[4], line: started)
                return first && second
            }, "gossip: nodes 0 and 1 find their 3-hop routes")
            print("routed real-process line: routes known \(ContinuousClock.now - gossip) after the channels opened")

            // Two payers, one payment at a time each, while node 2 is killed twice and restarted.
            let perPayer = 10
            let payments = ContinuousClock.now
            let killer = Task {
                var rng = SplitMix64(seed: seed)
                for round in 0..<2 {
                    try await Task.sleep(for: .milliseconds(Int.random(in: 150...900, using: &rng)))
                    line[2].kill()
                    print("routed real-process line: node 2 killed (round \(round)) \(ContinuousClock.now - payments) into the payments")
                    try await Task.sleep(for: .milliseconds(Int.random(in: 100...600, using: &rng)))
                    let back = reaper.track(try await NodeProcess(dataDir: directories[2], extra: Self.extra, readyTimeout: 60))
                    line[2] = back
                    try await Self.connect(back, line[1])
                    try await Self.connect(back, line[3])
                }
            }
            let sawSucceed = try await withThrowingTaskGroup(of: [String].self) { group in
                for (payer, payee) in [(0, 3), (1, 4)] {
                    group.addTask {
                        var succeeded: [String] = []
                        for k in 0..<perPayer {
                            let id = "p\(payer)-\(k)"
                            let result = try? await line[payer].call("pay", ["to": .string(line[payee].id), "amount": .string("\(1_000 + k)"),
                                                                              "asset": "USDC", "id": .string(id)])
                            if result?["status"] == "succeeded" { succeeded.append(id) }
                        }
                        return succeeded
                    }
                }
                var all: [String] = []
                for try await s in group { all += s }
                return all
            }
            try await killer.value
            print("routed real-process line: \(2 * perPayer) payments in \(ContinuousClock.now - payments), \(sawSucceed.count) succeeded at once")

            // Every payment ends (resolved from the HTLC state if its call stopped waiting) ...
            #expect(try await eventually(30) {
                let first = try await Self.journal(line[0]), second = try await Self.journal(line[1])
                return (first + second).allSatisfy { $0["status"] != "pending" }
            }, "no payment left pending")
            // ... and no HTLC is left pending anywhere once the sweepers ran.
            #expect(try await eventually(30) {
                for node in line.all {
                    let htlcs = try await node.call("htlc.list")["htlcs"]?.arrayValue ?? []
                    if htlcs.contains(where: { $0["state"] == "pending" }) { return false }
                }
                return true
            }, "no HTLC pending on any node")
            let nowMillis = UInt64(Date().timeIntervalSince1970 * 1_000)
            for (i, node) in line.all.enumerated() {
                for h in try await node.call("htlc.list")["htlcs"]?.arrayValue ?? [] where h["state"] == "pending" {
                    #expect((h["expiry"]?.intValue).map { UInt64($0) > nowMillis } ?? false, "node \(i): HTLC pending past its expiry: \(h)")
                }
            }

            // What each channel must carry: the amounts of the payments that succeeded, fees exact.
            var expected = [UInt64](repeating: 0, count: 4)
            var succeededIDs = Set<String>()
            for (payer, first) in [(0, 0), (1, 1)] {
                for p in try await Self.journal(line[payer]) where p["status"] == "succeeded" {
                    let amount = try #require(p["amount"]?.stringValue.flatMap { UInt64($0) })
                    let last = amount + Self.fee(amount), total = last + Self.fee(last)
                    #expect(p["feesPaid"]?.stringValue == "\(total - amount)", "\(p)")
                    expected[first + 2] += amount
                    expected[first + 1] += last
                    expected[first] += total
                    succeededIDs.insert(try #require(p["id"]?.stringValue))
                }
            }
            // A payment the payer saw succeed stays succeeded (ids are hex in the journal).
            let seenHex = Set(sawSucceed.map { "0x" + Array($0.utf8).map { String(format: "%02x", $0) }.joined() })
            #expect(seenHex.isSubset(of: succeededIDs), "seen \(seenHex.subtracting(succeededIDs)) succeed, not in the journal as succeeded")
            #expect(!succeededIDs.isEmpty)
            // Both ends of every channel hold exactly that.
            for (i, channel) in channels.enumerated() {
                let want = "\(expected[i])"
                let agreed = try await eventually(20) {
                    let a = try await line[i].call("channel.list")["channels"]?.arrayValue?.first { $0["channel"]?.stringValue == channel }
                    let b = try await line[i + 1].call("channel.list")["channels"]?.arrayValue?.first { $0["channel"]?.stringValue == channel }
                    return a?["paid"]?.stringValue == want && b?["paid"]?.stringValue == want
                }
                #expect(agreed, "channel \(i) (\(channel)): both ends paid \(want)")
            }
            print("routed real-process line: \(succeededIDs.count) of \(2 * perPayer) payments succeeded; channels paid \(expected)")
        }
    }
}
