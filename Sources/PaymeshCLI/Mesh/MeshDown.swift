import ArgumentParser
import Foundation
import PaymeshConsole
import PaymeshNode

struct MeshDown: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down",
        abstract: "Stops every node of the mesh and removes its state file.",
        discussion: """
        Each node is asked to `stop` over its console; one still running after \(Int(MeshDown.graceSeconds)) s gets \
        SIGTERM, and SIGKILL \(Int(MeshDown.termSeconds)) s after that. Data directories and logs are kept \
        (the next `mesh up` in the same directory reuses the identities and channels) unless --purge is given, \
        which removes every node's data directory once all nodes have stopped.
        """)

    static let graceSeconds = 5.0
    static let termSeconds = 3.0

    @OptionGroup var dir: MeshDirOption
    @Flag(help: "Also remove the nodes' data directories (identities, channels, ledgers, logs).")
    var purge = false

    func run() async throws {
        let state: MeshState
        do { state = try dir.load() } catch {
            printError("paymesh mesh: \(error)")
            throw ExitCode(1)
        }
        let outcomes = await MeshProbe.forEach(state.nodes) { node in (node.index, await Self.stop(node)) }
        var counts: [String: Int] = [:]
        for (_, how) in outcomes { counts[how, default: 0] += 1 }
        let failed = outcomes.filter { $0.1 == "still running" }
        guard failed.isEmpty else {
            printError("paymesh mesh: could not stop " + failed.map { "node-\($0.0)" }.sorted().joined(separator: ", "))
            throw ExitCode(1)
        }
        MeshState.remove(from: dir.resolved)
        let summary = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        printLine("mesh down: \(state.nodes.count) node\(state.nodes.count == 1 ? "" : "s") in \(dir.resolved) (\(summary))")
        guard purge else {
            printLine("data kept in \(dir.resolved)/node-*: the next `mesh up` there reuses the identities and channels (`mesh down --purge` removes them)")
            return
        }
        let removed = try Self.purge(state, in: dir.resolved)
        printLine("purged: removed \(removed) data director\(removed == 1 ? "y" : "ies") (identities, channels, ledgers, logs)")
    }

    /// Removes the nodes' data directories — only those inside the mesh directory.
    static func purge(_ state: MeshState, in dir: String) throws -> Int {
        let root = URL(fileURLWithPath: dir).standardizedFileURL.path + "/"
        var removed = 0
        for node in state.nodes {
            let path = URL(fileURLWithPath: node.dataDir).standardizedFileURL.path
            guard path.hasPrefix(root), FileManager.default.fileExists(atPath: path) else { continue }
            do { try FileManager.default.removeItem(atPath: path) } catch {
                printError("paymesh mesh: cannot remove \(path): \(error.localizedDescription)")
                throw ExitCode(1)
            }
            removed += 1
        }
        return removed
    }

    /// Stops one node: console `stop`, then SIGTERM, then SIGKILL. Returns how it ended.
    static func stop(_ node: MeshState.Node) async -> String {
        NodeProcess.reapIfChild(node.pid)
        guard NodeProcess.isAlive(node.pid, dataDir: node.dataDir) else { return "already stopped" }
        if !node.console.isEmpty {
            _ = try? await withTimeout(.seconds(2)) {
                try await ConsoleClient.withConnection(socketPath: node.console) { try await $0.call("stop") }
            }
            if await NodeProcess.waitForExit(node.pid, dataDir: node.dataDir, timeout: .seconds(graceSeconds)) { return "stopped" }
        }
        kill(node.pid, SIGTERM)
        if await NodeProcess.waitForExit(node.pid, dataDir: node.dataDir, timeout: .seconds(termSeconds)) { return "terminated (SIGTERM)" }
        kill(node.pid, SIGKILL)
        if await NodeProcess.waitForExit(node.pid, dataDir: node.dataDir, timeout: .seconds(2)) { return "killed (SIGKILL)" }
        return "still running"
    }
}
