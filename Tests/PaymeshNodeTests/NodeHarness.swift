import Foundation
import PaymeshConsole
import PaymeshDaemon
import PaymeshNode

/// A node running in this process on loopback with a temporary data directory.
final class RunningNode: Sendable {
    let node: PaymeshNode
    let started: PaymeshNode.Started
    let directory: String
    let task: Task<Void, any Error>

    var socket: String { started.consolePath }

    private init(node: PaymeshNode, started: PaymeshNode.Started, directory: String, task: Task<Void, any Error>) {
        self.node = node
        self.started = started
        self.directory = directory
        self.task = task
    }

    static func start(directory: String = temporaryDirectory(), peers: [PeerEndpoint] = [],
                      configure: (inout NodeConfiguration) -> Void = { _ in }) async throws -> RunningNode {
        var config = NodeConfiguration(dataDirectory: directory, staticPeers: peers, mdns: false)
        config.peers.table.backoff = BackoffPolicy(initial: .milliseconds(100), maximum: .seconds(1))
        configure(&config)
        let node = PaymeshNode(configuration: config)
        let task = Task { try await node.run() }
        do {
            return RunningNode(node: node, started: try await node.started(), directory: directory, task: task)
        } catch {
            task.cancel()
            throw error
        }
    }

    /// One console call over the real socket.
    func call(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
        try await ConsoleClient.withConnection(socketPath: socket) { try await $0.call(method, params) }
    }

    func callResult(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> Result<JSONValue, ConsoleProtocol.RemoteError> {
        try await ConsoleClient.withConnection(socketPath: socket) { try await $0.callResult(method, params) }
    }

    /// The ids of peers in state `connected`, as the console reports them.
    func connectedPeers() async throws -> [String] {
        try await call("peers")["peers"]?.arrayValue?.filter { $0["state"] == "connected" }.compactMap { $0["id"]?.stringValue } ?? []
    }

    func stop() async {
        node.requestStop()
        _ = try? await task.value
    }
}
