import Foundation
import PaymeshConsole
import PaymeshNode
import PaymeshTestSupport
import Testing

/// `paymesh ctl` as scripts use it (README, "Exit statuses"), run as the real binary against two
/// real nodes: amounts typed as people write them, amounts shown with decimals and asset, exit
/// statuses per failure class, `--json` errors as JSON objects, `receipts verify` in USDC.
@Suite(.serialized) struct CtlScriptingTests {
    init() throws {
        try #require(PaymeshBinary.exists, "build the paymesh executable first (swift build --build-tests): \(PaymeshBinary.path)")
    }

    static func ctl(_ node: NodeProcess, _ arguments: [String]) async throws -> PaymeshBinary.Output {
        try await PaymeshBinary.run(["ctl", "--data-dir", node.dataDir] + arguments, timeout: 60)
    }

    static func json(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test(.timeLimit(.minutes(2)))
    func amountsExitStatusesAndJSONErrors() async throws {
        let reaper = Reaper()
        defer { reaper.killAll() }
        try await withTimeout(110) {
            let payer = reaper.track(try await NodeProcess(dataDir: reaper.nodeDirectory(), extra: ["--no-mdns"]))
            let payee = reaper.track(try await NodeProcess(dataDir: reaper.nodeDirectory(), extra: ["--no-mdns"]))

            // connect id@host:port, then amounts as people type them.
            var out = try await Self.ctl(payer, ["connect", "address=\(payee.id)@\(payee.listen)"])
            #expect(out.status == 0, "\(out)")
            out = try await Self.ctl(payer, ["ledger.fund", "asset=usdc", "decimals=6", "amount=1.5USDC"])
            #expect(out.status == 0 && out.stdout.contains("balance: 1.5 USDC") && out.stdout.contains("asset: USDC"), "\(out)")
            out = try await Self.ctl(payer, ["ledger.fund", "asset=USDC", "amount=99998.488"])
            #expect(out.status == 0 && out.stdout.contains("balance: 99,999.988 USDC"), "\(out)")

            // A refused call: status 1, text on stderr; with --json a JSON object on stdout.
            out = try await Self.ctl(payer, ["ledger.fund", "asset=USDC", "decimals=8", "amount=1"])
            #expect(out.status == 1 && out.stderr.contains("ASSET_MISMATCH") && out.stdout.isEmpty, "\(out)")
            out = try await Self.ctl(payer, ["ledger.fund", "asset=USDC", "decimals=8", "amount=1", "--json"])
            #expect(out.status == 1 && out.stderr.isEmpty, "\(out)")
            let refusal = try Self.json(out.stdout)
            #expect(refusal["code"] == 1106 && refusal["name"] == "ASSET_MISMATCH"
                    && refusal["message"] == "USDC has 6 decimals on this node, not 8", "\(out.stdout)")

            // A channel of 1 USDC; a burst of 5 × 0.4 USDC stops early for lack of funds: status 4.
            out = try await Self.ctl(payer, ["channel.open", "peer=\(payee.id)", "deposit=1USDC", "--json"])
            #expect(out.status == 0, "\(out)")
            let channel = try #require(try Self.json(out.stdout)["channel"]?.stringValue)
            out = try await Self.ctl(payer, ["pay", "channel=\(channel)", "amount=0.4", "task_id=42"])
            #expect(out.status == 0 && out.stdout.contains("ackedAmount: 0.4 USDC"), "\(out)")
            out = try await Self.ctl(payer, ["pay", "channel=\(channel)", "amount=0.4USDC", "count=5", "--json"])
            #expect(out.status == 4, "\(out)")
            let early = try Self.json(out.stdout)
            #expect(early["complete"] == false && early["error"]?["code"] == 1100, "\(out.stdout)")
            #expect(early["channels"]?.arrayValue?.first?["paid"] == "800000" && early["asset"] == "USDC" && early["decimals"] == 6, "\(out.stdout)")
            #expect(early["error"]?["message"] == "payment 0.4 USDC exceeds the available balance 0.2 USDC", "\(out.stdout)")
            // A refused open names the real reason and leaves nothing in the list.
            out = try await Self.ctl(payer, ["channel.open", "peer=\(payee.id)", "asset=USDC", "deposit=999999999999", "--json"])
            let tooLarge = try Self.json(out.stdout)
            #expect(out.status == 1 && tooLarge["code"] == 1100, "\(out)")
            #expect(tooLarge["message"] == "the deposit 999,999.999999 USDC is more than the USDC wallet holds (99,998.988 USDC); nothing was opened")
            #expect(try Self.json(try await Self.ctl(payer, ["channel.list", "--json"]).stdout)["channels"]?.arrayValue?.count == 1)

            // receipts verify speaks USDC.
            out = try await Self.ctl(payee, ["receipts", "channel=\(channel)", "--json"])
            #expect(out.status == 0, "\(out)")
            let file = payee.dataDir + ".receipts.json"
            try Data(out.stdout.utf8).write(to: URL(fileURLWithPath: file))
            out = try await PaymeshBinary.run(["receipts", "verify", file])
            #expect(out.status == 0 && out.stdout.contains("cumulative amount 0.4 USDC"), "\(out)")

            // `help METHOD` for people: every parameter and the result's shape.
            out = try await Self.ctl(payer, ["help", "pay"])
            #expect(out.status == 0 && out.stdout.contains("usage: pay")
                    && out.stdout.split(separator: "\n").contains { $0.contains("progress") && $0.contains("boolean") && $0.contains("optional") }
                    && out.stdout.contains("result: {complete, signed, burst"), "\(out)")
            // Piped, a burst prints no progress line; cancelled from another command: status 7, what was paid reported.
            let burst = Task { try await Self.ctl(payer, ["pay", "channel=\(channel)", "amount=1", "count=1000", "rate=1", "--json"]) }
            @Sendable func runningBurst() async throws -> JSONValue? {
                try Self.json(try await Self.ctl(payer, ["pay.running", "--json"]).stdout)["bursts"]?.arrayValue?.first
            }
            #expect(try await eventually(30) { try await runningBurst() != nil })
            let running = try #require(try await runningBurst())
            out = try await Self.ctl(payer, ["pay.cancel", "burst=\(running)", "--json"])
            let cancelAnswer = try Self.json(out.stdout)
            #expect(out.status == 0 && cancelAnswer["cancelled"] == true, "\(out)")
            out = try await burst.value
            let cancelled = try Self.json(out.stdout)
            #expect(out.status == 7 && cancelled["complete"] == false && cancelled["error"]?["name"] == "CANCELLED", "\(out)")
            #expect((cancelled["signed"]?.intValue ?? 0) >= 1 && cancelled["ackedNonce"]?.intValue == 2 + (cancelled["signed"]?.intValue ?? 0), "\(out.stdout)")
            #expect(!out.stderr.contains("\r") && !out.stderr.contains("payments acked"), "\(out)")

            // An unreachable node: status 3, in plain words, and as JSON with --json.
            let nowhere = reaper.directory() + "/none"
            out = try await PaymeshBinary.run(["ctl", "--data-dir", nowhere, "getinfo"])
            #expect(out.status == 3 && out.stderr.contains("no such file or directory") && !out.stderr.contains("errno")
                    && !out.stderr.contains("descriptor"), "\(out)")
            out = try await PaymeshBinary.run(["ctl", "--data-dir", nowhere, "getinfo", "--json"])
            let unreachable = try Self.json(out.stdout)
            #expect(out.status == 3 && unreachable["name"] == "NODE_UNREACHABLE", "\(out)")
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func meshDownKeepsOrPurgesTheDataAndMeshUpSaysItReusesIt() async throws {
        let reaper = Reaper()
        defer { reaper.killAll() }
        try await withTimeout(110) {
            let dir = reaper.directory() + "/mesh"
            var out = try await PaymeshBinary.run(["mesh", "up", "--nodes", "2", "--no-mdns", "--topology", "ring", "--dir", dir, "--timeout", "60"])
            #expect(out.status == 0 && !out.stdout.contains("reusing"), "\(out)")
            // A channel from node-0 to node-1, left open when the mesh goes down.
            func ctl(_ node: Int, _ arguments: [String]) async throws -> PaymeshBinary.Output {
                try await PaymeshBinary.run(["ctl", "--data-dir", "\(dir)/node-\(node)"] + arguments, timeout: 60)
            }
            let payee = try #require(try Self.json(try await ctl(1, ["getinfo", "--json"]).stdout)["id"]?.stringValue)
            out = try await ctl(0, ["ledger.fund", "asset=USDC", "decimals=6", "amount=10USDC"])
            #expect(out.status == 0, "\(out)")
            out = try await ctl(0, ["channel.open", "peer=\(payee)", "deposit=1USDC", "--json"])
            let channel = try #require(try Self.json(out.stdout)["channel"], "\(out)")
            out = try await PaymeshBinary.run(["mesh", "down", "--dir", dir], timeout: 60)
            #expect(out.status == 0 && out.stdout.contains("data kept in \(dir)/node-*"), "\(out)")
            #expect(FileManager.default.fileExists(atPath: dir + "/node-1/identity.key"))
            out = try await PaymeshBinary.run(["mesh", "up", "--nodes", "2", "--no-mdns", "--topology", "ring", "--dir", dir, "--timeout", "60"])
            #expect(out.status == 0 && out.stdout.contains("reusing the data of an earlier mesh: 2 nodes keep their identities, "
                                                           + "reusing their old channels and ledgers: 1 channel not settled paid from node-0"), "\(out)")
            let reopened = try #require(try Self.json(try await ctl(0, ["channel.list", "--json"]).stdout)["channels"]?.arrayValue)
            #expect(reopened.map { $0["channel"] } == [channel] && reopened.first?["state"] != "SETTLED", "\(reopened)")
            out = try await PaymeshBinary.run(["mesh", "down", "--purge", "--dir", dir], timeout: 60)
            #expect(out.status == 0 && out.stdout.contains("purged: removed 2 data directories"), "\(out)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/node-0") && !FileManager.default.fileExists(atPath: dir + "/node-1"))
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func jsonLogsAreOneObjectPerLine() async throws {
        let reaper = Reaper()
        defer { reaper.killAll() }
        try await withTimeout(50) {
            let node = reaper.track(try await NodeProcess(dataDir: reaper.nodeDirectory(), extra: ["--no-mdns", "--log-format", "json", "--log-level", "debug"]))
            _ = try await Self.ctl(node, ["connect", "address=127.0.0.1:1"]) // a failed dial: its error is logged in plain words
            _ = try await Self.ctl(node, ["stop"])
            _ = await node.terminate(seconds: 10)
            let lines = node.logText.split(separator: "\n").filter { !$0.hasPrefix("paymesh ready ") }
            #expect(lines.count >= 3, "\(node.logText)")
            for line in lines {
                let object = try JSONValue.parse(Array(line.utf8))
                #expect(object["ts"]?.stringValue != nil && object["level"]?.stringValue != nil && object["message"]?.stringValue != nil, "\(line)")
            }
            #expect(!node.logText.contains("errno") && !node.logText.contains("descriptor"), "\(node.logText)")
        }
    }
}
