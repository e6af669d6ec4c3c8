import ArgumentParser
import Foundation
import PaymeshConsole
import PaymeshNode

struct MeshUp: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Starts N nodes and waits until they are connected.",
        discussion: """
        With mDNS (the default) the nodes find each other through avahi-daemon and the command waits until every \
        node is connected to every other. With --no-mdns the nodes are wired by `connect` calls along --topology \
        and the command waits for those connections. The nodes keep running after the command returns.
        """)

    @OptionGroup var dir: MeshDirOption
    @Option(help: "How many nodes.")
    var nodes: Int
    @Option(help: "full, ring, star or random (needs --no-mdns unless full).")
    var topology: MeshTopology = .full
    @Flag(name: .customLong("no-mdns"), help: "No LAN discovery: wire the topology with console `connect` calls.")
    var noMdns = false
    @Option(help: "Seed for --topology random (default: random, printed).")
    var seed: UInt64?
    @Option(help: "Seconds to wait for the nodes to start and connect.")
    var timeout: Double = 120
    @Option(name: .customLong("log-level"), help: "The nodes' log level.")
    var logLevel: String = "info"
    @Flag(help: "Print the summary as JSON.")
    var json = false

    func validate() throws {
        guard (1...500).contains(nodes) else { throw ValidationError("--nodes must be 1–500") }
        guard noMdns || topology == .full else {
            throw ValidationError("--topology \(topology.rawValue) needs --no-mdns (with mDNS every node connects to every other)")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        do {
            try await up()
        } catch let error as MeshError {
            printError("paymesh mesh: \(error)")
            throw ExitCode(1)
        }
    }

    private func up() async throws {
        let dir = self.dir.resolved
        let deadline = ContinuousClock.now + .seconds(timeout)
        if let old = try MeshState.load(from: dir) {
            let running = old.nodes.filter { NodeProcess.isAlive($0.pid, dataDir: $0.dataDir) }
            guard running.isEmpty else {
                throw MeshError("a mesh is running in \(dir) (\(running.count) of \(old.nodes.count) nodes alive); stop it with `paymesh mesh down --dir \(dir)`")
            }
        }
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        // Data directories left by an earlier mesh (`mesh down` keeps them): their identities and channels are reused.
        let reused = (0..<nodes).filter { FileManager.default.fileExists(atPath: dir + "/node-\($0)/" + IdentityStore.fileName) }
        let seed = self.seed ?? UInt64.random(in: 0...UInt64.max)
        let edges = noMdns ? topology.edges(nodes: nodes, seed: seed) : MeshTopology.full.edges(nodes: nodes, seed: seed)
        let began = ContinuousClock.now

        // 1. Start every node and wait for its ready line.
        let executable = NodeProcess.currentExecutable()
        var started: [MeshState.Node] = []
        do {
            started = try await startNodes(executable: executable, dir: dir, deadline: deadline)
        } catch let failure as StartFailure {
            await stopAll(failure.started)
            throw MeshError(failure.message)
        }
        let state = MeshState(createdAt: Date().formatted(.iso8601), mdns: !noMdns, topology: noMdns ? topology.rawValue : "full (mDNS)",
                              seed: noMdns && topology == .random ? seed : nil, edges: edges, nodes: started)
        try state.save(to: dir)
        let ready = ContinuousClock.now

        // 2. Static wiring (node b dials node a for each edge a < b).
        if noMdns { await wire(state) }

        // 3. Wait until every expected connection is up.
        let missing = await waitConnected(state, deadline: deadline)
        let connected = ContinuousClock.now
        // What the reused nodes still hold: channels not settled, each counted once (at its payer).
        let kept = await Self.channelsKept(started.filter { reused.contains($0.index) })
        let withChannels = kept.filter { $0.value > 0 }.keys.sorted()
        let channelsKept = kept.values.reduce(0, +)
        if json {
            printLine(JSONValue.object([
                "dir": .string(dir), "nodes": JSONValue(nodes), "mdns": .bool(!noMdns), "topology": .string(state.topology),
                "edges": JSONValue(edges.count), "readySeconds": .double(secondsValue(began.duration(to: ready))),
                "connectSeconds": .double(secondsValue(ready.duration(to: connected))),
                "totalSeconds": .double(secondsValue(began.duration(to: connected))), "complete": .bool(missing.isEmpty),
                "pids": .array(started.map { JSONValue($0.pid) }),
                "reused": .array(reused.map { JSONValue($0) }), "reusedWithChannels": .array(withChannels.map { JSONValue($0) }),
                "reusedChannels": JSONValue(channelsKept),
            ]).description)
        } else {
            let how = noMdns ? "topology \(topology.rawValue)\(topology == .random ? " seed \(seed)" : ""), static wiring" : "mDNS discovery"
            printLine("mesh up: \(nodes) node\(nodes == 1 ? "" : "s") in \(dir) (\(how), \(edges.count) connection\(edges.count == 1 ? "" : "s"))")
            if !reused.isEmpty {
                printLine("reusing the data of an earlier mesh: \(reused.count) node\(reused.count == 1 ? "" : "s") keep their identities"
                          + (withChannels.isEmpty ? ", no channels to reuse"
                             : ", reusing their old channels and ledgers: \(channelsKept) channel\(channelsKept == 1 ? "" : "s") not settled"
                               + " paid from \(withChannels.map { "node-\($0)" }.joined(separator: ", "))")
                          + " (`paymesh mesh down --purge --dir \(dir)` starts afresh)")
            }
            for node in started {
                printLine("  node-\(node.index)  pid \(node.pid)  \(node.id)  \(node.listen)")
            }
            printLine("started in \(seconds(began.duration(to: ready))); "
                + (missing.isEmpty ? "all connected \(seconds(ready.duration(to: connected))) later" : "NOT all connected after \(seconds(ready.duration(to: connected)))")
                + " (total \(seconds(began.duration(to: connected))))")
            printLine("inspect: paymesh mesh status --dir \(dir)    stop: paymesh mesh down --dir \(dir)")
        }
        guard missing.isEmpty else {
            for (index, absent) in missing.sorted(by: { $0.key < $1.key }) {
                printError("node-\(index) lacks connections to: \(absent.sorted().map { "node-\($0)" }.joined(separator: ", "))")
            }
            throw MeshError("the mesh did not fully connect within \(Int(timeout)) s; the nodes are still running (logs in \(dir)/node-*/node.log)")
        }
    }

    private struct StartFailure: Error {
        let message: String
        let started: [MeshState.Node]
    }

    private func startNodes(executable: String, dir: String, deadline: ContinuousClock.Instant) async throws -> [MeshState.Node] {
        var spawned: [(index: Int, pid: Int32, dataDir: String, log: String)] = []
        for index in 0..<nodes {
            let dataDir = dir + "/node-\(index)"
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            let log = dataDir + "/node.log"
            var arguments = ["start", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--log-level", logLevel]
            if noMdns { arguments.append("--no-mdns") }
            do {
                let pid = try NodeProcess.spawnDetached(executable: executable, arguments: arguments, log: log)
                spawned.append((index, pid, dataDir, log))
            } catch {
                let partial = spawned.map { MeshState.Node(index: $0.index, pid: $0.pid, id: "", listen: "", console: "", dataDir: $0.dataDir, log: $0.log) }
                throw StartFailure(message: "\(error)", started: partial)
            }
        }
        // On a terminal: nodes ready so far (nothing when piped).
        let display = ProgressDisplay(noun: "nodes ready")
        let began = ContinuousClock.now
        display.update(done: 0, total: spawned.count, elapsedMillis: 0)
        let outcomes = await MeshProbe.forEach(spawned, limit: spawned.count) { node in
            let ready = await Self.waitReady(index: node.index, pid: node.pid, dataDir: node.dataDir, log: node.log, deadline: deadline)
            display.update(String(node.index), done: 1, total: 1, elapsedMillis: millisValue(ContinuousClock.now - began))
            return ready
        }
        display.finish()
        let nodes = outcomes.compactMap { try? $0.get() }.sorted { $0.index < $1.index }
        let failures = outcomes.compactMap { if case .failure(let e) = $0 { e.description } else { nil } }
        guard failures.isEmpty else {
            let all = spawned.map { s in
                nodes.first { $0.index == s.index } ?? MeshState.Node(index: s.index, pid: s.pid, id: "", listen: "", console: "", dataDir: s.dataDir, log: s.log)
            }
            throw StartFailure(message: failures.joined(separator: "\n"), started: all)
        }
        return nodes
    }

    /// Polls the node's log for its ready line (`paymesh ready id=… listen=… console=…`).
    private static func waitReady(index: Int, pid: Int32, dataDir: String, log: String,
                                  deadline: ContinuousClock.Instant) async -> Result<MeshState.Node, MeshError> {
        while true {
            if let text = FileManager.default.contents(atPath: log).map({ String(decoding: $0, as: UTF8.self) }),
               let line = text.split(separator: "\n").first(where: { $0.hasPrefix("paymesh ready ") }) {
                var fields: [String: String] = [:]
                for word in line.split(separator: " ").dropFirst(2) {
                    if let eq = word.firstIndex(of: "=") { fields[String(word[..<eq])] = String(word[word.index(after: eq)...]) }
                }
                guard let id = fields["id"], let listen = fields["listen"], let console = fields["console"] else {
                    return .failure(MeshError("node-\(index): unreadable ready line: \(line)"))
                }
                return .success(MeshState.Node(index: index, pid: pid, id: id, listen: listen, console: console, dataDir: dataDir, log: log))
            }
            NodeProcess.reapIfChild(pid)
            guard NodeProcess.isAlive(pid) else {
                return .failure(MeshError("node-\(index) (pid \(pid)) exited before it was ready; \(log):\n\(NodeProcess.tail(log))"))
            }
            guard ContinuousClock.now < deadline else {
                return .failure(MeshError("node-\(index) (pid \(pid)) was not ready in time; \(log):\n\(NodeProcess.tail(log))"))
            }
            try? await Task.sleep(for: .milliseconds(25))
        }
    }

    /// Node b calls `connect` to node a for every edge (a, b); failures are retried by the wait.
    private func wire(_ state: MeshState) async {
        let byIndex = Dictionary(uniqueKeysWithValues: state.nodes.map { ($0.index, $0) })
        let pairs = state.edges.compactMap { e -> (MeshState.Node, PeerEndpoint)? in
            guard let a = byIndex[e[0]], let b = byIndex[e[1]], let endpoint = PeerEndpoint(a.listen) else { return nil }
            return (b, endpoint)
        }
        _ = await MeshProbe.forEach(pairs) { pair in
            await Self.connect(pair.0, to: pair.1)
        }
    }

    /// Per node: its channels not settled on which it pays (`channel.list`); 0 when it cannot say.
    private static func channelsKept(_ nodes: [MeshState.Node]) async -> [Int: Int] {
        let counts = await MeshProbe.forEach(nodes) { node -> (Int, Int) in
            let list = try? await withTimeout(.seconds(10)) {
                try await ConsoleClient.withConnection(socketPath: node.console) { try await $0.call("channel.list") }
            }
            let open = list?["channels"]?.arrayValue?.filter { $0["role"] == "payer" && $0["state"] != "SETTLED" }.count ?? 0
            return (node.index, open)
        }
        return Dictionary(counts, uniquingKeysWith: { a, _ in a })
    }

    @discardableResult
    private static func connect(_ node: MeshState.Node, to endpoint: PeerEndpoint) async -> Bool {
        let result = try? await withTimeout(.seconds(10)) {
            try await ConsoleClient.withConnection(socketPath: node.console) { client in
                try await client.callResult("connect", ["host": .string(endpoint.host), "port": JSONValue(endpoint.port)])
            }
        }
        if case .success? = result { return true }
        return false
    }

    /// Polls `peers` on every node until each is connected to all its expected neighbours
    /// (it may be connected to more: other nodes on the same avahi-daemon). With static wiring,
    /// missing edges are connected again on every round. Returns what is still missing.
    private func waitConnected(_ state: MeshState, deadline: ContinuousClock.Instant) async -> [Int: Set<Int>] {
        let expected = state.neighbours
        let ids = Dictionary(uniqueKeysWithValues: state.nodes.map { ($0.index, $0.id.lowercased()) })
        var round = 0
        // On a terminal: node ends connected to their expected neighbours (nothing when piped).
        let display = ProgressDisplay(noun: "connection ends up")
        defer { display.finish() }
        let began = ContinuousClock.now
        let ends = expected.values.reduce(0) { $0 + $1.count }
        while true {
            let reports = await MeshProbe.reports(state, ping: false)
            var missing: [Int: Set<Int>] = [:]
            for report in reports {
                let want = expected[report.index] ?? []
                let absent = want.filter { !report.connectedIDs.contains(ids[$0] ?? "") }
                if !absent.isEmpty { missing[report.index] = absent }
            }
            display.update(done: ends - missing.values.reduce(0) { $0 + $1.count }, total: ends, elapsedMillis: millisValue(ContinuousClock.now - began))
            if missing.isEmpty || ContinuousClock.now >= deadline { return missing }
            round += 1
            if noMdns, round % 10 == 0 {
                // Redo the connects of edges still missing (a dial may have failed under load).
                let byIndex = Dictionary(uniqueKeysWithValues: state.nodes.map { ($0.index, $0) })
                let retry = missing.flatMap { index, absent in absent.filter { index > $0 }.map { (index, $0) } }
                _ = await MeshProbe.forEach(retry) { pair in
                    guard let b = byIndex[pair.0], let a = byIndex[pair.1], let endpoint = PeerEndpoint(a.listen) else { return false }
                    return await Self.connect(b, to: endpoint)
                }
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
    }

    private func stopAll(_ nodes: [MeshState.Node]) async {
        _ = await MeshProbe.forEach(nodes) { node in await MeshDown.stop(node) }
    }
}
