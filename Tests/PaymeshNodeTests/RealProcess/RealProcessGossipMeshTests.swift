import Foundation
import PaymeshConsole
import PaymeshNode
import PaymeshTestSupport
import Synchronization
import Testing

/// Gossip across real `paymesh start --no-mdns` processes on loopback (Specs/gossip.md): a
/// 20-node mesh where every node opens a channel to its neighbour and every graph learns all 20
/// channels; a killed node's announcements age out (`--gossip-stale`). The same harness measures
/// a 30-node mesh when `PAYMESH_GOSSIP_BENCH=1` (figures in README.md, "Gossip").
@Suite(.serialized) struct RealProcessGossipMeshTests {
    init() throws {
        try #require(PaymeshBinary.exists, "build the paymesh executable first (swift build --build-tests): \(PaymeshBinary.path)")
    }

    /// Starts `n` nodes at once, then wires a ring with chords (i → i+1, i → i+7) by console `connect`.
    static func mesh(_ n: Int, _ reaper: Reaper, extra: [String] = []) async throws -> [NodeProcess] {
        let nodes = try await withThrowingTaskGroup(of: (Int, NodeProcess).self) { group in
            for i in 0..<n {
                let dir = reaper.nodeDirectory()
                group.addTask { (i, try await NodeProcess(dataDir: dir, extra: ["--no-mdns"] + extra, readyTimeout: 60)) }
            }
            var all: [(Int, NodeProcess)] = []
            for try await started in group { all.append(started) }
            return all.sorted { $0.0 < $1.0 }.map { reaper.track($0.1) }
        }
        var edges = Set<[Int]>()
        for i in 0..<n {
            edges.insert([i, (i + 1) % n].sorted())
            if n > 8 { edges.insert([i, (i + 7) % n].sorted()) }
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for e in edges {
                let (a, b) = (nodes[e[0]], nodes[e[1]])
                group.addTask { _ = try await a.call("connect", ["address": .string(b.listen.description)]) }
            }
            try await group.waitForAll()
        }
        return nodes
    }

    /// Channel ids in the node's graph, with how many end updates each has.
    static func graphChannels(_ node: NodeProcess) async throws -> [String: Int] {
        var out: [String: Int] = [:]
        for c in try await node.call("graph.channels")["channels"]?.arrayValue ?? [] {
            if let id = c["id"]?.stringValue { out[id] = c["updates"]?.arrayValue?.count ?? 0 }
        }
        return out
    }

    static func graphNodes(_ node: NodeProcess) async throws -> Set<String> {
        Set((try await node.call("graph.nodes")["nodes"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue?.lowercased() })
    }

    /// Node i funds itself and opens a channel to node i+1; returns the channel ids.
    static func openRing(_ nodes: [NodeProcess]) async throws -> [String] {
        try await withThrowingTaskGroup(of: String.self) { group in
            for (i, node) in nodes.enumerated() {
                let next = nodes[(i + 1) % nodes.count]
                group.addTask {
                    _ = try await node.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000"])
                    let opened = try await node.call("channel.open", ["peer": .string(next.id), "asset": "USDC", "decimals": 6,
                                                                      "deposit": .string("\(10 + i)")])
                    return try #require(opened["channel"]?.stringValue ?? opened["id"]?.stringValue)
                }
            }
            var ids: [String] = []
            for try await id in group { ids.append(id) }
            return ids
        }
    }

    /// scripts/test.sh runs this suite on its own after the parallel run (20 debug-build processes
    /// gossiping would slow every other test). The stale period is 30 s: each node refreshes its
    /// announcements every 7.5 s, which a debug build on two cores keeps up with.
    @Test(.timeLimit(.minutes(4)))
    func twentyProcessesLearnEveryChannelAndAKilledNodeAgesOut() async throws {
        let reaper = Reaper()
        defer { reaper.killAll() }
        try await withTimeout(220) {
            let n = 20, stale = 30
            let nodes = try await Self.mesh(n, reaper, extra: ["--gossip-stale", "\(stale)"])
            let channels = Set(try await Self.openRing(nodes))
            #expect(channels.count == n)
            let opened = ContinuousClock.now
            @Sendable func incomplete() async throws -> [Int: String] {
                var out: [Int: String] = [:]
                for (i, node) in nodes.enumerated() {
                    let g = try await Self.graphChannels(node)
                    if !(Set(g.keys) == channels && g.values.allSatisfy { $0 == 2 }) {
                        out[i] = "\(g.count) channels, \(g.values.filter { $0 == 2 }.count) with both updates"
                    }
                }
                return out
            }
            let converged = try await eventually(75) { try await incomplete().isEmpty }
            let missing = converged ? [:] : try await incomplete()
            #expect(converged, "graphs without all \(n) channels and both updates: \(missing)")
            print("gossip real-process mesh: \(n) nodes hold all \(n) channels \(ContinuousClock.now - opened) after the opens returned")
            let ids = Set(nodes.map { $0.id.lowercased() })
            for node in nodes { #expect(try await eventually(10) { try await Self.graphNodes(node) == ids }) }
            // Kill node 5: its node announcement and its channel updates age out everywhere (the
            // channels stay: nodes 4 and 6 keep refreshing their ends).
            let victim = nodes[5], victimID = victim.id.lowercased()
            victim.kill()
            let killed = ContinuousClock.now
            let survivors = nodes.enumerated().filter { $0.offset != 5 }
            for (i, node) in survivors {
                #expect(try await eventually(Double(stale) * 4) {
                    try await Self.graphNodes(node) == ids.subtracting([victimID])
                }, "node \(i) pruned the killed node's announcement")
                let updates = try await node.call("graph.channels")["channels"]?.arrayValue ?? []
                #expect(try await eventually(Double(stale) * 2) {
                    let list = try await node.call("graph.channels")["channels"]?.arrayValue ?? []
                    return !list.contains { c in (c["updates"]?.arrayValue ?? []).contains { $0["from"]?.stringValue?.lowercased() == victimID } }
                }, "node \(i) pruned the killed node's channel updates: \(updates)")
            }
            print("gossip real-process mesh: the killed node aged out of \(n - 1) graphs \(ContinuousClock.now - killed) after the kill (stale \(stale) s)")
            for (_, node) in survivors {
                let s = try await node.call("gossip.status")
                #expect(s["counters"]?["invalid"] == 0 && s["driver"]?["misbehaviourReported"] == 0, "\(s)")
            }
        }
    }

    /// `PAYMESH_GOSSIP_BENCH=1 swift test --skip-build --filter RealProcessGossipMeshTests/benchmark`:
    /// 30 processes; the time from `channel.open` returning to the channel being in all 30 graphs,
    /// and idle gossip traffic per node.
    @Test(.enabled(if: ProcessInfo.processInfo.environment["PAYMESH_GOSSIP_BENCH"] == "1"), .timeLimit(.minutes(5)))
    func benchmarkThirtyProcesses() async throws {
        let reaper = Reaper()
        defer { reaper.killAll() }
        try await withTimeout(280) {
            let n = Int(ProcessInfo.processInfo.environment["PAYMESH_GOSSIP_BENCH_NODES"] ?? "") ?? 30
            let nodes = try await Self.mesh(n, reaper)
            let ring = Set(try await Self.openRing(nodes))
            for node in nodes { #expect(try await eventually(60) { Set(try await Self.graphChannels(node).keys) == ring }) }
            // Dissemination latency: one more channel at a time, between non-neighbours.
            var latencies: [Double] = []
            for k in 0..<5 {
                let (a, b) = (nodes[k], nodes[(k + n / 2) % n])
                _ = try await a.call("connect", ["address": .string(b.listen.description)])
                // Every node watches its graph events (`subscribe graph`) on one console connection
                // while the channel is opened: polling 30 consoles would load the nodes it measures.
                let ready = AsyncStream<Void>.makeStream(bufferingPolicy: .unbounded)
                let marks = OpenMarks()
                let seen = try await withThrowingTaskGroup(of: Duration.self) { group in
                    for node in nodes {
                        group.addTask {
                            try await ConsoleClient.withConnection(socketPath: node.socket) { watcher async throws -> Duration in
                                _ = try await watcher.call("subscribe", ["topics": ["graph"]])
                                ready.continuation.yield()
                                for await incoming in watcher.incoming {
                                    guard case .notification("event", let event) = incoming, event["type"] == "graph.channel",
                                          let got = event["channel"]?.stringValue?.lowercased() else { continue }
                                    let at = ContinuousClock.now
                                    // The id is known once channel.open returns; an event before that is ours
                                    // only if it is the one new channel (checked after the open).
                                    if let id = marks.channelID.withLock({ $0 }), got != id { continue }
                                    return at - (marks.openedAt.withLock { $0 } ?? at)
                                }
                                throw WatchEnded()
                            }
                        }
                    }
                    var subscribed = 0
                    for await _ in ready.stream {
                        subscribed += 1
                        if subscribed == nodes.count { break }
                    }
                    let t = ContinuousClock.now
                    let opened = try await a.call("channel.open", ["peer": .string(b.id), "asset": "USDC", "decimals": 6, "deposit": "5"])
                    let id = try #require(opened["channel"]?.stringValue ?? opened["id"]?.stringValue).lowercased()
                    let openReturned = ContinuousClock.now
                    marks.openedAt.withLock { $0 = openReturned }
                    marks.channelID.withLock { $0 = id }
                    print("gossip bench: channel \(k + 1) opened in \(openReturned - t)")
                    var worst = Duration.zero
                    for try await d in group { worst = max(worst, d) }
                    return worst
                }
                let seconds = Double(seen.components.seconds) + Double(seen.components.attoseconds) / 1e18
                latencies.append(seconds)
                print("gossip bench: channel \(k + 1) in all \(n) graphs \(String(format: "%.3f", seconds)) s after channel.open returned (graph.channel events)")
            }
            // Idle traffic: 20 s with nothing published.
            func totals() async throws -> (frames: Int64, bytes: Int64) {
                var frames: Int64 = 0, bytes: Int64 = 0
                for node in nodes {
                    frames += try await node.call("gossip.status")["counters"]?["framesSent"]?.intValue ?? 0
                    for peer in try await node.connectedPeers() {
                        bytes += try await node.call("peer", ["id": .string(peer)])["bytesOut"]?.intValue ?? 0
                    }
                }
                return (frames, bytes)
            }
            try await Task.sleep(for: .seconds(5))
            let before = try await totals()
            let window = 20.0
            try await Task.sleep(for: .seconds(window))
            let after = try await totals()
            let framesPerNode = Double(after.frames - before.frames) / Double(n) / window
            let bytesPerNode = Double(after.bytes - before.bytes) / Double(n) / window
            print("gossip bench: \(n) nodes idle for \(Int(window)) s: \(String(format: "%.2f", framesPerNode)) gossip frames/s and \(String(format: "%.0f", bytesPerNode)) bytes/s sent per node (all protocols, incl. pings)")
            print("gossip bench: latency max over 5 channels \(String(format: "%.3f", latencies.max() ?? 0)) s, median \(String(format: "%.3f", latencies.sorted()[latencies.count / 2])) s")
        }
    }
}

/// When the measured channel.open returned, and the channel's id (set once it returned).
final class OpenMarks: Sendable {
    let openedAt = Mutex<ContinuousClock.Instant?>(nil)
    let channelID = Mutex<String?>(nil)
}

/// A console's event stream ended before the awaited event.
struct WatchEnded: Error {}
