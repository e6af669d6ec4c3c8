import NIOConcurrencyHelpers
public import PaymeshCrypto
public import PaymeshMux
import PaymeshNoise
public import PaymeshTransport

/// A node's in-memory transport: what `PaymeshEndpoint` is over TCP, addressed by a port of its
/// `MemoryNetwork`. No sockets, no handshake: the network authenticates each end by construction.
public final class MemoryTransport: PeerTransport {
    public let identity: IdentityKey
    /// Where peers reach this transport (`MemoryNetwork.host`, `port`).
    public let port: Int
    public let inboundConnections: AsyncStream<MemoryConnection>
    private let inboundContinuation: AsyncStream<MemoryConnection>.Continuation
    private let noiseStaticKey: X25519.PublicKey
    private let network: MemoryNetwork

    private struct State {
        var protocols: Set<StreamProtocolID> = []
        var features: [String] = []
        var connections: [ObjectIdentifier: MemoryConnection] = [:]
        var rejectedStreams: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    init(identity: IdentityKey, port: Int, network: MemoryNetwork) {
        self.identity = identity
        self.port = port
        self.network = network
        // A stand-in Noise key, fixed per identity (nothing is encrypted in memory).
        let address = identity.address.rawRepresentation
        noiseStaticKey = try! X25519.PrivateKey(rawRepresentation: address + address.prefix(12)).publicKey
        (inboundConnections, inboundContinuation) = AsyncStream.makeStream()
    }

    public var localPeer: EthereumAddress { identity.address }

    /// The peer as the other end of a connection sees it: identity and advertised features.
    var authenticated: AuthenticatedPeer {
        AuthenticatedPeer(address: identity.address, noiseStaticKey: noiseStaticKey, features: state.withLockedValue { $0.features })
    }

    public func offer(protocols: Set<StreamProtocolID>, features: [String]) throws {
        state.withLockedValue { s in
            s.protocols = protocols
            s.features = features
        }
    }

    public var offeredProtocols: Set<StreamProtocolID> { state.withLockedValue { $0.protocols } }

    /// Streams peers opened with a protocol this transport does not offer (each was reset).
    public var rejectedStreams: UInt64 { state.withLockedValue { $0.rejectedStreams } }

    /// Open connections of this transport.
    public var connectionCount: Int { state.withLockedValue { $0.connections.count } }

    public func connect(host: String, port: Int, expecting: EthereumAddress?) async throws -> MemoryConnection {
        try network.dial(from: self, port: port, expecting: expecting)
    }

    /// Leaves the network and closes every connection (cleanly, as a stopping process would).
    public func shutdown() async { leave(nil) }

    /// Leaves the network and drops every connection with an error (a killed process).
    public func crash() { leave(TransportError(.connectionClosed, "\(identity.address) crashed")) }

    private func leave(_ error: TransportError?) {
        network.remove(self)
        inboundContinuation.finish()
        let open = state.withLockedValue { Array($0.connections.values) }
        for c in open { c.terminate(error) }
    }

    // MARK: Called by the network and the connections

    /// Adds a connection end; false if this transport has left the network.
    func adopt(_ connection: MemoryConnection, inbound: Bool) {
        state.withLockedValue { $0.connections[ObjectIdentifier(connection)] = connection }
        if inbound { inboundContinuation.yield(connection) }
    }

    func forget(_ connection: MemoryConnection) {
        _ = state.withLockedValue { $0.connections.removeValue(forKey: ObjectIdentifier(connection)) }
    }

    func countRejectedStream() { state.withLockedValue { $0.rejectedStreams += 1 } }

    func connections(to peer: EthereumAddress) -> [MemoryConnection] {
        state.withLockedValue { $0.connections.values.filter { $0.peer.address == peer } }
    }
}
