import Foundation
import PaymeshConsole
import PaymeshNode
import PaymeshTestSupport
import Testing

/// Real `paymesh` processes without discovery (--no-mdns): the console over a real socket, and
/// `paymesh mesh up/status/down` with static wiring.
@Suite(.serialized) struct RealProcessConsoleAndMeshTests {
    init() throws {
        try #require(PaymeshBinary.exists, "build the paymesh executable first (swift build --build-tests): \(PaymeshBinary.path)")
    }

    /// Two `paymesh start --no-mdns` processes, the second wired to the first, once connected.
    static func twoConnectedNodes(_ reaper: Reaper) async throws -> (NodeProcess, NodeProcess) {
        let a = reaper.track(try await NodeProcess(dataDir: reaper.nodeDirectory(), extra: ["--no-mdns"]))
        let b = reaper.track(try await NodeProcess(dataDir: reaper.nodeDirectory(), extra: ["--no-mdns", "--peer", a.listen.description]))
        #expect(try await eventually(10) { try await a.connectedPeers() == [b.id.lowercased()] })
        return (a, b)
    }

    @Test(.timeLimit(.minutes(3)))
    func theConsoleAnswersEveryMethodAndRejectsBadInputWithoutDroppingTheSession() async throws {
        let reaper = Reaper()
        defer { reaper.killAll() }
        try await withTimeout(150) {
            let (a, b) = try await Self.twoConnectedNodes(reaper)
            let bID = JSONValue.string(b.id)

            try await ConsoleClient.withConnection(socketPath: a.socket) { console in
                let methods = try await console.call("help")["methods"]?.arrayValue?.compactMap { $0["name"]?.stringValue } ?? []
                let core: Set = ["getinfo", "peers", "peer", "connect", "disconnect", "ping", "discovery", "metrics", "loglevel",
                                 "subscribe", "help", "stop"]
                #expect(core.isSubset(of: Set(methods)), "help lists \(methods)")

                // Each core method with real parameters and a check of its answer.
                let info = try await console.call("getinfo")
                #expect(info["id"] == .string(a.id) && info["listen"] == [.string(a.listen.description)])
                #expect(try await console.call("peers")["peers"]?.arrayValue?.first?["id"] == bID)
                #expect(try await console.call("peer", ["id": bID])["state"] == "connected")
                #expect(try await console.call("ping", ["id": bID])["rttMs"]?.doubleValue ?? -1 > 0)
                let discovery = try await console.call("discovery")
                #expect(discovery["active"] == false && discovery["daemon"] == "disabled" && discovery["reason"] == "disabled by --no-mdns")
                #expect(try await console.call("metrics")["peersConnected"] == 1)
                #expect(try await console.call("loglevel", ["level": "debug"]) == ["level": "debug", "previous": "info"])
                #expect(try await console.call("subscribe", ["topics": ["peer"]])["subscribed"] == ["peer"])
                let one = try await console.call("help", ["method": "ping"])["methods"]?.arrayValue ?? []
                #expect(one.count == 1 && one.first?["name"] == "ping" && one.first?["params"]?.arrayValue?.count == 1)
                #expect(try await console.call("disconnect", ["id": bID])["disconnecting"] == true)
                let connect = try await console.call("connect", ["host": "127.0.0.1", "port": JSONValue(b.listen.port)])
                #expect(connect["id"] == bID)
                // Methods other layers registered: each answers (a result or a JSON-RPC error).
                for name in methods where !core.contains(name) {
                    _ = try await console.callResult(name)
                }

                // Malformed input: an error line each, and the session goes on.
                let bad: [(String, Int)] = [
                    ("this is not json", -32700),
                    ("[1,2,3]", -32600),
                    (#"{"jsonrpc":"1.0","method":"getinfo","id":"r1"}"#, -32600),
                    (#"{"jsonrpc":"2.0","method":"getinfo","params":[1],"id":"r2"}"#, -32602),
                    (#"{"jsonrpc":"2.0","method":"","id":"r3"}"#, -32600),
                    (#"{"jsonrpc":"2.0","method":"getinfo","id":{"x":1}}"#, -32600),
                    ("{\"jsonrpc\":\"2.0\",\"method\":\"getinfo\",\"id\":\"" + String(repeating: "x", count: 1_100_000) + "\"}", -32600),
                ]
                var errors: [Int] = []
                var incoming = console.incoming.makeAsyncIterator()
                for (line, _) in bad {
                    try await console.sendRaw(line)
                    while let message = await incoming.next() {
                        if case .response(_, .failure(let error)) = message { errors.append(error.code); break }
                    }
                }
                #expect(errors == bad.map(\.1))
                for (method, params, code) in [("nosuchmethod", [:], -32601), ("peer", ["id": JSONValue(5)], -32602),
                                               ("peer", [:], -32602), ("ping", ["id": "0x1234"], -32602),
                                               ("getinfo", ["extra": true], -32602), ("loglevel", ["level": "loud"], -32602),
                                               ("connect", ["host": "127.0.0.1", "port": 70_000], -32602),
                                               ("peer", ["id": .string("0x" + String(repeating: "0", count: 40))], -32001)] as [(String, [String: JSONValue], Int)] {
                    guard case .failure(let error) = try await console.callResult(method, params) else {
                        Issue.record("\(method) \(params) succeeded")
                        continue
                    }
                    #expect(error.code == code, "\(method) \(params): \(error)")
                }
                #expect(try await console.call("getinfo")["id"] == .string(a.id), "the session survives bad input")
            }
            #expect(a.isRunning)

            // stop answers, then the node exits cleanly and removes its socket.
            #expect(try await a.call("stop")["stopping"] == true)
            #expect(try await eventually(10) { !a.isRunning })
            #expect(!FileManager.default.fileExists(atPath: a.socket))
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func theConsoleSocketIsOwnerOnly() async throws {
        let reaper = Reaper()
        defer { reaper.killAll() }
        try await withTimeout(50) {
            let a = reaper.track(try await NodeProcess(dataDir: reaper.nodeDirectory(), extra: ["--no-mdns"]))
            #expect(permissions(a.socket) == 0o600)
            #expect(permissions(a.dataDir) == 0o700)
            guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"),
                  FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else {
                print("RealProcessConsoleAndMeshTests: not root or no setpriv/python3: only the modes were checked")
                return
            }
            // As user nobody: refused. Control: with the modes opened up, the same probe connects.
            #expect(try await connectsAsNobody(a.socket) == false)
            chmod(a.dataDir, 0o755)
            chmod(a.socket, 0o666)
            #expect(try await connectsAsNobody(a.socket) == true, "the probe cannot connect even to an open socket")
            chmod(a.socket, 0o600)
            chmod(a.dataDir, 0o700)
            #expect(try await connectsAsNobody(a.socket) == false)
        }
    }

    private func permissions(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    /// Tries to connect to the Unix socket as user nobody (uid 65534).
    private func connectsAsNobody(_ socket: String) async throws -> Bool {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/setpriv")
        process.arguments = ["--reuid=65534", "--regid=65534", "--clear-groups", "/usr/bin/python3", "-c",
                             "import socket, sys; s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])", socket]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
        return process.terminationStatus == 0
    }

    /// Gossip between two real processes (Specs/gossip.md): a channel opened over the console is
    /// announced by both ends and lands in both graphs with each end's update; a service advertised
    /// on one node is found on the other and gone after its withdrawal.
    @Test(.timeLimit(.minutes(1)))
    func twoProcessesGossipTheirChannelNodesAndServices() async throws {
        let reaper = Reaper()
        defer { reaper.killAll() }
        try await withTimeout(50) {
            let (a, b) = try await Self.twoConnectedNodes(reaper)
            _ = try await a.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000"])
            let opened = try await a.call("channel.open", ["peer": .string(b.id), "asset": "USDC", "decimals": 6, "deposit": "400"])
            let channel = try #require(opened["channel"]?.stringValue ?? opened["id"]?.stringValue)
            for node in [a, b] {
                #expect(try await eventually(15) {
                    let list = try await node.call("graph.channels")["channels"]?.arrayValue ?? []
                    return list.count == 1 && list[0]["id"]?.stringValue == channel && list[0]["updates"]?.arrayValue?.count == 2
                }, "both ends' graphs hold the channel")
                #expect(try await eventually(10) {
                    Set((try await node.call("graph.nodes")["nodes"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue?.lowercased() })
                        == [a.id.lowercased(), b.id.lowercased()]
                })
            }
            _ = try await a.call("service.advertise", ["name": "echo", "unit": "call", "price": "2", "asset": "USDC", "decimals": 6])
            #expect(try await eventually(10) { try await b.call("services.find", ["name": "echo"])["services"]?.arrayValue?.count == 1 })
            _ = try await a.call("service.withdraw", ["name": "echo"])
            #expect(try await eventually(10) { try await b.call("services.find", ["name": "echo"])["services"] == [] })
            let status = try await b.call("gossip.status")
            #expect(status["counters"]?["invalid"] == 0 && status["announcements"]?["announced"] == 1)
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func aTwentyNodeRingFormsReportsItsNeighboursAndGoesDown() async throws {
        let reaper = Reaper()
        defer { reaper.killAll() }
        try await withTimeout(170) {
            let dir = reaper.directory() + "/mesh"
            let up = try await PaymeshBinary.run(["mesh", "up", "--nodes", "20", "--topology", "ring", "--no-mdns", "--dir", dir, "--timeout", "90"])
            #expect(up.status == 0, "mesh up: \(up.stdout)\n\(up.stderr)")
            #expect(up.stdout.contains("mesh up: 20 nodes"))
            try #require(FileManager.default.fileExists(atPath: dir + "/mesh.json"))
            #expect(processes(mentioning: dir).count == 20)

            let status = try await PaymeshBinary.run(["mesh", "status", "--json", "--dir", dir], timeout: 60)
            #expect(status.status == 0, "mesh status: \(status.stderr)")
            let report = try JSONValue.parse(Array(status.stdout.utf8))
            let nodes = try #require(report["nodes"]?.arrayValue)
            #expect(nodes.count == 20)
            for node in nodes {
                let index = Int(node["index"]?.intValue ?? -1)
                #expect(node["alive"] == true && node["state"] == "up")
                let connected = (node["peers"]?.arrayValue ?? []).filter { $0["state"] == "connected" }
                let neighbours = Set(connected.compactMap { $0["node"]?.intValue.map(Int.init) })
                #expect(neighbours == [(index + 19) % 20, (index + 1) % 20], "node \(index): \(connected)")
                #expect(connected.count == 2)
                #expect(connected.allSatisfy { ($0["rttMs"]?.doubleValue ?? -1) > 0 }, "node \(index): \(connected)")
                // Gossip runs by default: each node's graph holds at least its own node announcement.
                #expect((node["graph"]?["nodes"]?.intValue ?? 0) >= 1 && node["graph"]?["channels"] == 0, "node \(index): \(node)")
            }
            let table = try await PaymeshBinary.run(["mesh", "status", "--dir", dir], timeout: 60)
            #expect(table.status == 0 && table.stdout.contains("20 nodes, 20 up"), "\(table.stdout)")

            // A node that died is shown dead, and `down` still stops the rest.
            let victim = try #require(nodes[5]["pid"]?.intValue)
            kill(Int32(victim), SIGKILL)
            #expect(try await eventually(5) { processes(mentioning: dir + "/node-5 ").isEmpty })
            let after = try await PaymeshBinary.run(["mesh", "status", "--json", "--dir", dir], timeout: 60)
            #expect(after.status == 1)
            let dead = try JSONValue.parse(Array(after.stdout.utf8))["nodes"]?.arrayValue?.first { $0["index"] == 5 }
            #expect(dead?["alive"] == false && dead?["state"] == "dead")

            let down = try await PaymeshBinary.run(["mesh", "down", "--dir", dir], timeout: 60)
            #expect(down.status == 0, "mesh down: \(down.stdout)\n\(down.stderr)")
            #expect(down.stdout.contains("19 stopped") && down.stdout.contains("1 already stopped"), "\(down.stdout)")
            #expect(!FileManager.default.fileExists(atPath: dir + "/mesh.json"))
            #expect(processes(mentioning: dir).isEmpty, "left running: \(processes(mentioning: dir))")
            let gone = try await PaymeshBinary.run(["mesh", "status", "--dir", dir], timeout: 20)
            #expect(gone.status == 1 && gone.stderr.contains("no mesh"))
        }
    }
}
