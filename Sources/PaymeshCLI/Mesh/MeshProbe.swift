import Foundation
import PaymeshConsole
import PaymeshNode

/// What one node reports over its console (for `mesh status` and `mesh up`'s wait).
struct NodeReport: Sendable {
    struct Peer: Sendable {
        let id: String
        let state: String
        let rttMs: Double?
    }

    let index: Int
    let pid: Int32
    let alive: Bool
    /// Why the console gave no answer (nil when it answered).
    let error: String?
    let id: String?
    let listen: String?
    let discovery: String?
    let peers: [Peer]
    /// Channels, nodes and services in the node's gossip graph (nil: no answer, or gossip off).
    var graph: (channels: Int, nodes: Int, services: Int)?

    var connectedIDs: Set<String> { Set(peers.filter { $0.state == "connected" }.map { $0.id.lowercased() }) }
}

enum MeshProbe {
    /// Per console call; a node that does not answer in time is reported unresponsive.
    static let callTimeout: Duration = .seconds(3)
    /// Console connections in flight at once (each node is a process on a shared machine).
    static let parallelism = 16

    /// Asks every node for `getinfo` and `peers`; with `ping`, also measures a fresh RTT to
    /// each connected peer (a node's own keepalive RTT is refreshed only every 15 s).
    static func reports(_ state: MeshState, ping: Bool) async -> [NodeReport] {
        await forEach(state.nodes) { node in await report(node, ping: ping) }.sorted { $0.index < $1.index }
    }

    static func report(_ node: MeshState.Node, ping: Bool) async -> NodeReport {
        NodeProcess.reapIfChild(node.pid)
        guard NodeProcess.isAlive(node.pid, dataDir: node.dataDir) else {
            return NodeReport(index: node.index, pid: node.pid, alive: false, error: "not running", id: node.id, listen: node.listen,
                              discovery: nil, peers: [])
        }
        do {
            return try await withTimeout(callTimeout * (ping ? 3 : 1)) {
                try await ConsoleClient.withConnection(socketPath: node.console) { client in
                    let info = try await client.call("getinfo")
                    let list = try await client.call("peers")["peers"]?.arrayValue ?? []
                    var peers: [NodeReport.Peer] = []
                    for p in list {
                        guard let id = p["id"]?.stringValue else { continue }
                        let state = p["state"]?.stringValue ?? "?"
                        var rtt = p["rttMs"]?.doubleValue
                        if ping, state == "connected", case .success(let r) = try await client.callResult("ping", ["id": .string(id)]) {
                            rtt = r["rttMs"]?.doubleValue ?? rtt
                        }
                        peers.append(.init(id: id, state: state, rttMs: rtt))
                    }
                    let discovery = info["discovery"]?["active"]?.boolValue == true ? "on" : "off"
                    var report = NodeReport(index: node.index, pid: node.pid, alive: true, error: nil, id: info["id"]?.stringValue ?? node.id,
                                            listen: info["listen"]?.arrayValue?.first?.stringValue ?? node.listen, discovery: discovery, peers: peers)
                    if case .success(let g) = try await client.callResult("gossip.status", [:]), let graph = g["graph"] {
                        report.graph = (Int(graph["channels"]?.intValue ?? 0), Int(graph["nodes"]?.intValue ?? 0), Int(graph["services"]?.intValue ?? 0))
                    }
                    return report
                }
            }
        } catch {
            return NodeReport(index: node.index, pid: node.pid, alive: true, error: "console: \(error)", id: node.id, listen: node.listen,
                              discovery: nil, peers: [])
        }
    }

    /// Runs `body` for every element with at most `parallelism` in flight; results in any order.
    static func forEach<T: Sendable, R: Sendable>(_ items: [T], limit: Int = parallelism,
                                                  _ body: @escaping @Sendable (T) async -> R) async -> [R] {
        await withTaskGroup(of: R.self) { group in
            var results: [R] = []
            var iterator = items.makeIterator()
            for _ in 0..<limit {
                guard let item = iterator.next() else { break }
                group.addTask { await body(item) }
            }
            while let result = await group.next() {
                results.append(result)
                if let item = iterator.next() { group.addTask { await body(item) } }
            }
            return results
        }
    }
}

struct TimedOut: Error, CustomStringConvertible {
    let after: Duration
    var description: String { "no answer within \(after)" }
}

/// `body`'s result, or `TimedOut` after `timeout` (the body is cancelled).
func withTimeout<T: Sendable>(_ timeout: Duration, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: timeout)
            throw TimedOut(after: timeout)
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}
