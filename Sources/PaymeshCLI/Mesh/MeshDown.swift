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
        (the next `mesh up` in the same directory reuses the identities).
        """)

    static let graceSeconds = 5.0
    static let termSeconds = 3.0

    @OptionGroup var dir: MeshDirOption

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
