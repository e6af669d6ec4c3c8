import PaymeshConsole
import PaymeshDaemon
import PaymeshNode
import Testing

/// What most gateway and `paymesh fetch` tests begin with: a node in this process with its HTTP
/// listener on loopback, selling services (USDC, 6 decimals) over a test upstream.
struct GatewaySeller: Sendable {
    /// One `service.add`: `price` in atomic units per `unit`, its description its name.
    struct Service: Sendable {
        var name: String
        var unit: String
        var price: String
    }

    let upstream: TestUpstream
    let gateway: RunningNode
    /// The gateway's HTTP listener (`host:port`).
    let http: PeerEndpoint

    static let echo = Service(name: "echo", unit: "call", price: "250")

    static func start(selling services: [Service] = [echo],
                      configure: (inout NodeConfiguration) -> Void = { _ in }) async throws -> GatewaySeller {
        let upstream = try await TestUpstream.start()
        let gateway = try await RunningNode.start {
            $0.http = PeerEndpoint(host: "127.0.0.1", port: 0)
            configure(&$0)
        }
        let http = try #require(gateway.started.http)
        for s in services {
            _ = try await gateway.call("service.add", [
                "name": .string(s.name), "upstream": .string("http://127.0.0.1:\(upstream.port)/api"), "price": .string(s.price),
                "unit": .string(s.unit), "asset": "USDC", "decimals": 6, "description": .string(s.name)])
        }
        return GatewaySeller(upstream: upstream, gateway: gateway, http: http)
    }

    /// What each end of `channel` counts as paid: the gateway (payee) and `buyer` (payer).
    func paid(_ channel: String, buyer: NodeProcess) async throws -> (payee: String?, payer: String?) {
        (try await gateway.call("channel.get", ["channel": .string(channel)])["paid"]?.stringValue,
         try await buyer.call("channel.get", ["channel": .string(channel)])["paid"]?.stringValue)
    }

    /// `paymesh fetch http://<gateway>/<path> --data-dir <dataDir> <extra>` (a minute at most).
    func fetch(_ path: String, dataDir: String, _ extra: [String]) async throws -> PaymeshBinary.Output {
        try await PaymeshBinary.run(["fetch", "http://\(http)\(path)", "--data-dir", dataDir] + extra, timeout: 60)
    }
}
