import Foundation
import PaymeshConsole
import PaymeshNode
import PaymeshTestSupport
import Testing

/// Real `paymesh start` processes on loopback, finding each other through the real
/// avahi-daemon (scripts/avahi/start.sh: allow-interfaces=lo, so mDNS stays on this machine).
/// Serialized: they share the daemon, and one test stops and restarts it. Other nodes on the
/// same daemon may be found too, so the checks ask for "at least these peers".
@Suite(.serialized) struct RealProcessDiscoveryTests {
    init() throws {
        try #require(PaymeshBinary.exists, "build the paymesh executable first (swift build --build-tests): \(PaymeshBinary.path)")
        let avahi = AvahiDaemon.start()
        try #require(avahi.status == 0, "scripts/avahi/start.sh: \(avahi.output)")
    }

    private func startNodes(_ count: Int, _ reaper: Reaper, extra: [String] = []) async throws -> [NodeProcess] {
        var nodes: [NodeProcess] = []
        for _ in 0..<count { nodes.append(reaper.track(try await NodeProcess(dataDir: reaper.nodeDirectory(), extra: extra))) }
        return nodes
    }

    /// Waits until each node is connected to all the others.
    private func expectFullyConnected(_ nodes: [NodeProcess], within seconds: Double = 15,
                                      sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let ids = nodes.map { $0.id.lowercased() }
        for (i, node) in nodes.enumerated() {
            let others = Set(ids).subtracting([ids[i]])
            let ok = try await eventually(seconds) { try await node.connectedPeers().isSuperset(of: others) }
            let seen = try await node.connectedPeers()
            #expect(ok, "node \(i) is connected to \(seen.sorted()), wanted \(others.sorted())\n\(node.logText)", sourceLocation: sourceLocation)
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func threeNodesWithoutStaticPeersDiscoverAndConnect() async throws {
        let reaper = Reaper()
        defer { reaper.killAll() }
        try await withTimeout(50) {
            let nodes = try await startNodes(3, reaper)
            let began = ContinuousClock.now
            try await expectFullyConnected(nodes, within: 10)
            print("RealProcessDiscoveryTests: 3 nodes fully connected through avahi-daemon in \(began.duration(to: .now))")

            let ids = nodes.map { $0.id.lowercased() }
            let discovery = try await nodes[0].call("discovery")
            #expect(discovery["active"] == true && discovery["daemon"] == "available" && discovery["reason"] == .null)
            #expect(discovery["serviceType"] == "_paymesh._tcp")
            #expect(discovery["instance"] == .string("paymesh-" + ids[0].dropFirst(2).prefix(8)))
            let listed = try await eventually(10) {
                let listedIDs = try await nodes[0].call("discovery")["peers"]?.arrayValue?.compactMap { $0["id"]?.stringValue?.lowercased() } ?? []
                return Set(listedIDs).isSuperset(of: ids.dropFirst())
            }
            #expect(listed)
            let seen = try await nodes[0].call("discovery")["peers"]?.arrayValue ?? []
            for (i, id) in ids.enumerated().dropFirst() {
                let entry = try #require(seen.first { $0["id"]?.stringValue?.lowercased() == id }, "node 0 does not see node \(i): \(seen)")
                #expect(entry["host"] == "127.0.0.1" && entry["port"] == JSONValue(nodes[i].listen.port))
                #expect(entry["version"] == "paymesh/1" && entry["state"] == "connected")
            }
            #expect(!seen.contains { $0["id"]?.stringValue?.lowercased() == ids[0] }, "a node must not report itself")
            // Every address came from discovery (no static peers), and each pair kept one connection.
            let detail = try await nodes[0].call("peer", ["id": .string(nodes[1].id)])
            #expect(detail["addresses"]?.arrayValue?.contains { $0["source"] == "discovered" } == true)
            for node in nodes {
                let ok = try await eventually(5) {
                    let m = try await node.call("metrics")
                    return m["connections"] == m["peersConnected"]
                }
                let metrics = try await node.call("metrics")
                #expect(ok, "duplicate connections left: \(metrics)")
            }
            // A graceful stop withdraws the service: the others see it removed from discovery.
            await nodes[2].terminate()
            let gone = try await eventually(10) {
                let list = try await nodes[0].call("discovery")["peers"]?.arrayValue ?? []
                return !list.contains { $0["id"]?.stringValue?.lowercased() == ids[2] }
            }
            #expect(gone, "node 2's service is still listed after it stopped")
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func aKilledNodeIsNoticedAndReconnectsAfterRestartWithItsIdentity() async throws {
        let reaper = Reaper()
        defer { reaper.killAll() }
        try await withTimeout(50) {
            let nodes = try await startNodes(3, reaper)
            try await expectFullyConnected(nodes, within: 10)
            let victim = nodes[2]
            let victimID = victim.id.lowercased()

            victim.kill() // SIGKILL: no GoAway, stale console socket left behind
            for survivor in nodes.prefix(2) {
                #expect(try await eventually(10) { try await !survivor.connectedPeers().contains(victimID) },
                        "a survivor still lists the killed node as connected")
                // The peer is forgotten (no address left once its service is gone) or not connected.
                switch try await ConsoleClient.withConnection(socketPath: survivor.socket, { try await $0.callResult("peer", ["id": .string(victim.id)]) }) {
                case .success(let peer): #expect(peer["state"] != "connected")
                case .failure(let error): #expect(error.code == -32001, "\(error)")
                }
            }

            let again = reaper.track(try await NodeProcess(dataDir: victim.dataDir))
            #expect(again.id == victim.id, "the restarted node has another identity")
            #expect(again.listen.port != 0)
            try await expectFullyConnected([nodes[0], nodes[1], again], within: 15)
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func withoutAvahiTheNodeSaysDiscoveryIsOffAndResumesWhenTheDaemonStarts() async throws {
        let reaper = Reaper()
        defer {
            reaper.killAll()
            AvahiDaemon.start()
        }
        try await withTimeout(100) {
            let stopped = AvahiDaemon.stop()
            try #require(stopped.status == 0, "scripts/avahi/stop.sh: \(stopped.output)")

            let a = reaper.track(try await NodeProcess(dataDir: reaper.nodeDirectory()))
            // One clear log line, in the log and on the console.
            let offLines = { a.logText.split(separator: "\n").filter { $0.contains("discovery is off") } }
            #expect(offLines().count == 1, "log:\n\(a.logText)")
            #expect(offLines().first?.contains("avahi-daemon") == true, "log:\n\(a.logText)")
            let discovery = try await a.call("discovery")
            #expect(discovery["active"] == false && discovery["daemon"] == "unavailable")
            #expect(discovery["reason"]?.stringValue?.contains("avahi-daemon") == true, "\(discovery)")
            #expect(discovery["peers"] == [])
            let ctl = try await PaymeshBinary.run(["ctl", "discovery", "--data-dir", a.dataDir], timeout: 20)
            #expect(ctl.status == 0 && ctl.stdout.hasPrefix("discovery: off (") && ctl.stdout.contains("avahi-daemon"), "\(ctl)")
            #expect(try await a.call("getinfo")["discovery"]?["active"] == false)

            // Static peers work without the daemon.
            let b = reaper.track(try await NodeProcess(dataDir: reaper.nodeDirectory(), extra: ["--peer", a.listen.description]))
            #expect(try await eventually(10) { try await b.connectedPeers().contains(a.id.lowercased()) })
            let c = reaper.track(try await NodeProcess(dataDir: reaper.nodeDirectory()))
            try await Task.sleep(for: .milliseconds(500))
            #expect(try await c.connectedPeers().isEmpty, "c has no static peers and no discovery yet")
            #expect(offLines().count == 1, "discovery-off logged more than once:\n\(a.logText)")

            let started = AvahiDaemon.start()
            try #require(started.status == 0, "scripts/avahi/start.sh: \(started.output)")
            #expect(try await eventually(20) { try await a.call("discovery")["daemon"] == "available" })
            #expect(try await a.call("getinfo")["discovery"]?["active"] == true)
            try await expectFullyConnected([a, b, c], within: 20)
            #expect(a.logText.contains("discovery is on"))
            #expect(offLines().count == 1)
        }
    }
}
