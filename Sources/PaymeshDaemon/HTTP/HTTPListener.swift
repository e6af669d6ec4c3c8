public import Hummingbird
public import PaymeshNode
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// The node's HTTP/1.1 listener (hummingbird): serves the routes the features registered. Built by
/// the composition root when `NodeConfiguration.http` is set; `run()` is a child task of the node's
/// run, and ends when that task group is cancelled or the service group shuts down gracefully.
final class HTTPListener: Sendable {
    let requested: PeerEndpoint
    private let application: Application<RouterResponder<BasicRequestContext>>
    private let readiness: NIOLockedValueBox<Readiness>

    private struct Readiness {
        var result: Result<PeerEndpoint, NodeError>?
        var waiters: [CheckedContinuation<Result<PeerEndpoint, NodeError>, Never>] = []
    }

    init(endpoint: PeerEndpoint, groups: [any HTTPRouteGroup], logger: Logger) {
        requested = endpoint
        let router = Router()
        for group in groups { group.register(on: router) }
        let readiness = NIOLockedValueBox(Readiness())
        self.readiness = readiness
        application = Application(
            router: router,
            configuration: ApplicationConfiguration(address: .hostname(endpoint.host, port: endpoint.port), serverName: "paymesh"),
            onServerRunning: { channel in
                let bound = PeerEndpoint(host: channel.localAddress?.ipAddress ?? endpoint.host,
                                         port: channel.localAddress?.port ?? endpoint.port)
                Self.settle(readiness, .success(bound))
            },
            logger: logger)
    }

    /// Serves until cancelled. A bind failure is reported to `bound()`.
    func run() async {
        do {
            try await application.run()
            Self.settle(readiness, .failure(.configuration("the HTTP listener on \(requested) stopped before it listened")))
        } catch {
            Self.settle(readiness, .failure(.configuration("cannot listen for HTTP on \(requested): \(error)")))
        }
    }

    /// The bound address (the real port when 0 was asked for), once listening; or why it is not.
    func bound() async -> Result<PeerEndpoint, NodeError> {
        await withCheckedContinuation { continuation in
            let done = readiness.withLockedValue { r in
                if r.result == nil { r.waiters.append(continuation) }
                return r.result
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    private static func settle(_ readiness: NIOLockedValueBox<Readiness>, _ result: Result<PeerEndpoint, NodeError>) {
        let waiters = readiness.withLockedValue { r -> [CheckedContinuation<Result<PeerEndpoint, NodeError>, Never>] in
            guard r.result == nil else { return [] }
            r.result = result
            defer { r.waiters.removeAll() }
            return r.waiters
        }
        for w in waiters { w.resume(returning: result) }
    }
}
