import Foundation

/// `<dir>/mesh.json`: what `mesh up` started, for `mesh status` and `mesh down`.
struct MeshState: Codable {
    static let fileName = "mesh.json"

    struct Node: Codable {
        var index: Int
        var pid: Int32
        var id: String
        var listen: String
        var console: String
        var dataDir: String
        var log: String
    }

    var version = 1
    var createdAt: String
    var mdns: Bool
    var topology: String
    var seed: UInt64?
    /// Expected connections as pairs of node indexes (lower first); all pairs with mDNS.
    var edges: [[Int]]
    var nodes: [Node]

    static func path(in dir: String) -> String { dir + "/" + fileName }

    static func load(from dir: String) throws -> MeshState? {
        guard let data = FileManager.default.contents(atPath: path(in: dir)) else { return nil }
        do {
            return try JSONDecoder().decode(MeshState.self, from: data)
        } catch {
            throw MeshError("\(path(in: dir)) is not a mesh state file: \(error)")
        }
    }

    func save(to dir: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(self)
        let target = Self.path(in: dir), temporary = target + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw MeshError("cannot write \(temporary)")
        }
        guard rename(temporary, target) == 0 else { throw MeshError("cannot rename \(temporary) to \(target)") }
    }

    static func remove(from dir: String) {
        try? FileManager.default.removeItem(atPath: path(in: dir))
    }

    /// Each node's expected neighbours (indexes), from `edges`.
    var neighbours: [Int: Set<Int>] {
        var result: [Int: Set<Int>] = [:]
        for node in nodes { result[node.index] = [] }
        for edge in edges where edge.count == 2 {
            result[edge[0], default: []].insert(edge[1])
            result[edge[1], default: []].insert(edge[0])
        }
        return result
    }
}

/// A mesh command failure, printed as `paymesh mesh: <message>`.
struct MeshError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
