public import NIOCore
public import PaymeshCrypto
public import PaymeshMux
public import PaymeshNoise

/// What the layers above the transport need from it: authenticated peers and multiplexed byte
/// streams, each carrying one named protocol (Specs/streams.md). `PaymeshEndpoint` (TCP + Noise +
/// yamux) is the production implementation; the node tests run nodes over an in-memory one
/// (`MemoryTransport` in the `PaymeshNodeTestSupport` library) behind the same interface.
///
/// Contract: `connect` returns a connection whose `peer` proved its identity (and is the one
/// `expecting` names, if given); streams of a protocol the remote does not offer are reset by the
/// remote; every stream bounds the bytes in flight (a writer waits in `write`, never queues
/// without limit).
public protocol PeerTransport: AnyObject, Sendable {
    associatedtype Connection: PeerConnection
    associatedtype InboundConnections: AsyncSequence<Connection, Never> & Sendable

    /// This node's id (the address of its identity key).
    var localPeer: EthereumAddress { get }
    /// Connections peers opened to this node, authenticated; finishes at `shutdown()`.
    var inboundConnections: InboundConnections { get }
    /// Replaces the stream protocols accepted and the features advertised to peers.
    func offer(protocols: Set<StreamProtocolID>, features: [String]) throws
    /// Connects to the peer at `host:port`; with `expecting`, fails unless it proves that identity.
    func connect(host: String, port: Int, expecting: EthereumAddress?) async throws -> Connection
    /// Stops accepting connections and finishes `inboundConnections`.
    func shutdown() async
}

/// One authenticated connection to a peer, multiplexing streams.
public protocol PeerConnection: AnyObject, Sendable {
    associatedtype Stream: PeerStream
    associatedtype InboundStreams: AsyncSequence<Stream, Never> & Sendable

    /// Who the peer proved to be (identity address, features).
    var peer: AuthenticatedPeer { get }
    var remoteAddress: SocketAddress? { get }
    /// Streams the peer opened with a protocol this side offers; finishes when the connection closes.
    var inboundStreams: InboundStreams { get }
    /// Opens a stream carrying `protocolID`; a peer that does not speak it resets the stream.
    func openStream(_ protocolID: StreamProtocolID) async throws -> Stream
    /// Round-trip time of a liveness probe.
    func ping() async throws -> TimeAmount
    /// Bytes received and sent so far on this connection.
    var traffic: (bytesReceived: UInt64, bytesSent: UInt64) { get }
    /// Graceful close; returns once the connection is closed.
    func close() async
    /// Returns when the connection is closed: normally for a clean close, throwing the reason
    /// (a `TransportError`) otherwise.
    func closed() async throws
}

/// One stream of a `PeerConnection`: in-order bytes both ways, with back-pressure.
public protocol PeerStream: AnyObject, Sendable {
    associatedtype Inbound: AsyncSequence<ByteBuffer, any Error> & Sendable

    var protocolID: StreamProtocolID { get }
    /// The bytes the peer sends, in order; finishes at the peer's half-close, throws on reset.
    /// Consuming it is what lets the peer send more.
    var inbound: Inbound { get }
    /// Queues `data`; returns once the stream has room again (back-pressure).
    func write(_ data: ByteBuffer) async throws
    /// Queues every buffer without waiting (the caller bounds what it writes).
    func writeWithoutWaiting(_ buffers: [ByteBuffer])
    /// Half-closes our direction.
    func close()
    /// Aborts the stream in both directions.
    func reset()
}

extension PaymeshEndpoint: PeerTransport {
    public var localPeer: EthereumAddress { configuration.identity.address }
}

extension PaymeshConnection: PeerConnection {
    public func closed() async throws { try await closeFuture.get() }
}

extension PaymeshStream: PeerStream {}
