import ArgumentParser
import Foundation
import PaymeshNode

/// `paymesh mesh up|status|down`: a local test mesh of node processes on loopback.
struct Mesh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Starts, inspects and stops a local mesh of nodes (separate processes on 127.0.0.1).",
        discussion: """
        Each node runs `paymesh start` with its own data directory <dir>/node-<i> (log in node.log there). \
        The mesh's state is kept in <dir>/mesh.json.
        """,
        subcommands: [MeshUp.self, MeshStatus.self, MeshDown.self, MeshPay.self])
}

/// `--dir`, defaulting to $PAYMESH_MESH_DIR, then ./.paymesh-mesh.
struct MeshDirOption: ParsableArguments {
    static let defaultDirectory = "./.paymesh-mesh"

    @Option(name: .customLong("dir"), help: "Mesh directory (env PAYMESH_MESH_DIR; default ./.paymesh-mesh).")
    var dir: String?

    /// The absolute directory (node data directories hold the console sockets, whose paths
    /// the mesh records).
    var resolved: String {
        let raw = dir ?? ProcessInfo.processInfo.environment["PAYMESH_MESH_DIR"].flatMap { $0.isEmpty ? nil : $0 } ?? Self.defaultDirectory
        let expanded = DataDirectory.expand(raw)
        let absolute = expanded.hasPrefix("/") ? expanded : FileManager.default.currentDirectoryPath + "/" + expanded
        return URL(fileURLWithPath: absolute).standardizedFileURL.path
    }

    func load() throws -> MeshState {
        guard let state = try MeshState.load(from: resolved) else {
            throw MeshError("no mesh in \(resolved) (no \(MeshState.fileName)); start one with `paymesh mesh up`")
        }
        return state
    }
}

/// Seconds with two decimals.
func seconds(_ d: Duration) -> String { String(format: "%.2f s", Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18) }
func secondsValue(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }
/// A duration in whole milliseconds (progress lines).
func millisValue(_ d: Duration) -> Int { Int(d.components.seconds) * 1_000 + Int(d.components.attoseconds / 1_000_000_000_000_000) }

/// `0x1234abcd…` for tables.
func shortID(_ id: String?) -> String {
    guard let id else { return "-" }
    return id.count > 12 ? String(id.prefix(10)) + "…" : id
}
