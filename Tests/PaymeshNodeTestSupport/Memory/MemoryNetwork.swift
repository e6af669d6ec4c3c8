import NIOConcurrencyHelpers
public import PaymeshCrypto
import PaymeshTransport

/// An in-memory network of `MemoryTransport`s, each reachable at a port: what the node tests run
/// N nodes over instead of TCP (LDK's `create_network`). Links can be cut and nodes can leave
/// and come back at the same port.
public final class MemoryNetwork: Sendable {
    /// The host every memory transport is reached at (only the port tells them apart).
    public static let host = "127.0.0.1"
    /// Ports handed out when none is asked for start here.
    public static let firstPort = 10_000

    private struct State {
        var transports: [Int: MemoryTransport] = [:]
        var nextPort = MemoryNetwork.firstPort
        var dials: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    public init() {}

    /// A transport for `identity` at `port` (a fresh port if nil). Throws if the port is taken.
    public func transport(identity: IdentityKey, port: Int? = nil) throws(TransportError) -> MemoryTransport {
        let result: Result<MemoryTransport, TransportError> = state.withLockedValue { s in
            let chosen = port ?? s.nextPort
            guard s.transports[chosen] == nil else { return .failure(TransportError(.invalidState, "memory port \(chosen) is in use")) }
            if port == nil { s.nextPort += 1 }
            let transport = MemoryTransport(identity: identity, port: chosen, network: self)
            s.transports[chosen] = transport
            return .success(transport)
        }
        return try result.get()
    }

    /// Connections opened through this network so far.
    public var dialCount: UInt64 { state.withLockedValue { $0.dials } }

    /// Cuts every connection between `a` and `b` (both directions, with an error, as a lost link);
    /// returns how many were cut.
    @discardableResult
    public func disconnect(_ a: EthereumAddress, _ b: EthereumAddress) -> Int {
        let all = state.withLockedValue { Array($0.transports.values) }
        let cut = all.filter { $0.localPeer == a }.flatMap { $0.connections(to: b) }
        for c in cut { c.terminate(TransportError(.connectionClosed, "link \(a)–\(b) cut")) }
        return cut.count
    }

    /// Holds everything `a` writes to `b` (every connection and stream, also ones opened later on
    /// those connections) until `release(from:to:)`; returns how many connections it holds.
    @discardableResult
    public func hold(from a: EthereumAddress, to b: EthereumAddress) -> Int {
        let held = connections(from: a, to: b)
        for c in held { c.holdOutgoing() }
        return held.count
    }

    /// Delivers, in order, what `a` wrote to `b` while held, and lets later writes flow.
    public func release(from a: EthereumAddress, to b: EthereumAddress) {
        for c in connections(from: a, to: b) { c.releaseOutgoing() }
    }

    private func connections(from a: EthereumAddress, to b: EthereumAddress) -> [MemoryConnection] {
        let all = state.withLockedValue { Array($0.transports.values) }
        return all.filter { $0.localPeer == a }.flatMap { $0.connections(to: b) }
    }

    func dial(from dialer: MemoryTransport, port: Int, expecting: EthereumAddress?) throws(TransportError) -> MemoryConnection {
        let target: MemoryTransport? = state.withLockedValue { s in
            s.dials += 1
            return s.transports[port]
        }
        guard let target else {
            throw TransportError(.connectionClosed, "connection refused: nothing listens at memory port \(port)")
        }
        guard target.localPeer != dialer.localPeer else { throw TransportError(.selfConnection, "memory port \(port) is this node") }
        if let expecting, expecting != target.localPeer {
            throw TransportError(.unexpectedPeer, "memory port \(port) is \(target.localPeer), not \(expecting)")
        }
        let mine = MemoryConnection(transport: dialer, peer: target.authenticated, remotePort: port)
        let theirs = MemoryConnection(transport: target, peer: dialer.authenticated, remotePort: dialer.port)
        MemoryConnection.join(mine, theirs)
        dialer.adopt(mine, inbound: false)
        target.adopt(theirs, inbound: true)
        return mine
    }

    func remove(_ transport: MemoryTransport) {
        state.withLockedValue { s in
            if s.transports[transport.port] === transport { s.transports[transport.port] = nil }
        }
    }
}
