import Foundation
import PaymeshCrypto

/// What the node's built-in console methods need. Built by `PaymeshNode` once it listens.
struct CoreMethodContext: Sendable {
    let id: EthereumAddress
    let listen: [PeerEndpoint]
    let consolePath: String
    let started: ContinuousClock.Instant
    let startedAt: Date
    let peers: PeerManager
    let logLevel: LogLevelControl
    let events: EventHub
    let registry: ConsoleRegistry
    let stop: @Sendable () -> Void
    /// The channel store's health for getinfo: status ok / degraded / stopped, and the error.
    var store: @Sendable () -> (status: String, error: String?)? = { nil }

    var uptimeMs: JSONValue { JSONValue(Int64(started.duration(to: .now).milliseconds)) }
}

extension ConsoleRegistry {
    /// Registers getinfo, peers, peer, connect, disconnect, ping, metrics, loglevel,
    /// subscribe, help, stop (Specs/console.md §4); `discovery` is registered with `NodeDiscovery`.
    func registerCoreMethods(_ context: CoreMethodContext) {
        registerNodeMethods(context)
        registerPeerMethods(context)
        registerSessionMethods(context)
    }
}

/// Parses an `id` parameter (EIP-55 or all-lowercase hex address).
func peerID(_ call: ConsoleCall, _ name: String = "id") throws(NodeError) -> EthereumAddress {
    let text = try call.requireString(name)
    guard let id = EthereumAddress(string: text) else { throw .invalidParams("\(name) is not a peer id (0x + 40 hex digits): \(text)") }
    return id
}

func milliseconds(_ d: Duration?) -> JSONValue {
    guard let d else { return .null }
    return .double((d.milliseconds * 1000).rounded() / 1000)
}
