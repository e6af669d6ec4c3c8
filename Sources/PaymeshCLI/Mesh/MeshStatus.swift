import ArgumentParser
import Foundation
import PaymeshConsole
import PaymeshNode

struct MeshStatus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "Prints each node of the mesh with its peers, their round-trip times, and how many channels its gossip graph holds.",
        discussion: """
        Gathered over the nodes' console sockets (getinfo, peers, and a ping to every connected peer). A node \
        whose process is gone is shown dead; one that does not answer is shown unresponsive. \
        Exit status 1 when a node is dead or unresponsive.
        """)

    @OptionGroup var dir: MeshDirOption
    @Flag(help: "Print JSON.")
    var json = false
    @Flag(name: .customLong("no-ping"), help: "Show the nodes' last keepalive RTTs instead of pinging now.")
    var noPing = false

    func run() async throws {
        let state: MeshState
        do { state = try dir.load() } catch {
            printError("paymesh mesh: \(error)")
            throw ExitCode(1)
        }
        let reports = await MeshProbe.reports(state, ping: !noPing)
        let names = Dictionary(state.nodes.map { ($0.id.lowercased(), $0.index) }, uniquingKeysWith: { a, _ in a })
        if json {
            printLine(render(reports, state: state, names: names).description)
        } else {
            printLine(table(reports, state: state, names: names))
        }
        if reports.contains(where: { !$0.alive || $0.error != nil }) { throw ExitCode(1) }
    }

    private func nodeState(_ r: NodeReport) -> String {
        !r.alive ? "dead" : r.error != nil ? "unresponsive" : "up"
    }

    private func render(_ reports: [NodeReport], state: MeshState, names: [String: Int]) -> JSONValue {
        [
            "dir": .string(dir.resolved), "mdns": .bool(state.mdns), "topology": .string(state.topology),
            "edges": .array(state.edges.map { .array($0.map { JSONValue($0) }) }),
            "nodes": .array(reports.map { r in
                [
                    "index": JSONValue(r.index), "pid": JSONValue(r.pid), "alive": .bool(r.alive), "state": .string(nodeState(r)),
                    "error": JSONValue(r.error), "id": JSONValue(r.id), "listen": JSONValue(r.listen), "discovery": JSONValue(r.discovery),
                    "connected": JSONValue(r.peers.filter { $0.state == "connected" }.count),
                    "graph": r.graph.map { ["channels": JSONValue($0.channels), "nodes": JSONValue($0.nodes), "services": JSONValue($0.services)] } ?? .null,
                    "peers": .array(r.peers.map { p in
                        ["id": .string(p.id), "node": names[p.id.lowercased()].map { JSONValue($0) } ?? .null, "state": .string(p.state),
                         "rttMs": p.rttMs.map { .double($0) } ?? .null]
                    }),
                ]
            }),
        ]
    }

    private func table(_ reports: [NodeReport], state: MeshState, names: [String: Int]) -> String {
        let alive = reports.filter { $0.alive && $0.error == nil }.count
        var lines = ["mesh \(dir.resolved): \(reports.count) nodes, \(alive) up, \(state.mdns ? "mDNS discovery" : "topology \(state.topology)")"]
        var rows = [["NODE", "PID", "STATE", "ID", "LISTEN", "DISCOVERY", "PEERS", "GRAPH CHANNELS"]]
        for r in reports {
            rows.append(["node-\(r.index)", "\(r.pid)", nodeState(r), r.id ?? "-", r.listen ?? "-", r.discovery ?? "-",
                         r.alive && r.error == nil ? "\(r.peers.filter { $0.state == "connected" }.count)" : "-",
                         r.graph.map { "\($0.channels)" } ?? "-"])
        }
        lines.append(columns(rows))
        for r in reports where !r.peers.isEmpty || r.error != nil {
            lines.append("")
            lines.append("node-\(r.index) \(shortID(r.id))" + (r.error.map { ": \($0)" } ?? ""))
            var peerRows = [["  PEER", "ID", "STATE", "RTT ms"]]
            for p in r.peers.sorted(by: { (names[$0.id.lowercased()] ?? Int.max, $0.id) < (names[$1.id.lowercased()] ?? Int.max, $1.id) }) {
                peerRows.append(["  " + (names[p.id.lowercased()].map { "node-\($0)" } ?? "(outside)"), p.id, p.state,
                                 p.rttMs.map { String(format: "%.3f", $0) } ?? "-"])
            }
            if peerRows.count > 1 { lines.append(columns(peerRows)) }
        }
        return lines.joined(separator: "\n")
    }

    private func columns(_ rows: [[String]]) -> String {
        let widths = (0..<(rows.first?.count ?? 0)).map { i in rows.map { $0[i].count }.max() ?? 0 }
        return rows.map { row in
            var s = row.enumerated().map { $1.padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
            while s.last == " " { s.removeLast() }
            return s
        }.joined(separator: "\n")
    }
}
