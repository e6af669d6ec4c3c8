public import NIOCore
public import NIOPosix
public import PaymeshCrypto
public import PaymeshMux
public import PaymeshNoise
import NIOConcurrencyHelpers

/// A node's transport: listens on TCP, dials peers, runs the Paymesh handshake on every
/// connection and hands out authenticated, multiplexed `PaymeshConnection`s.
public final class PaymeshEndpoint: Sendable {
    public struct Configuration: Sendable {
        /// The node's long-term secp256k1 identity; its address is the peer id.
        public var identity: IdentityKey
        /// Features advertised in the identity proof.
        public var features: [String]
        /// Stream protocols this endpoint accepts; others are reset.
        public var protocols: Set<StreamProtocolID>
        /// transport.md: the handshake must complete within 10 s of the TCP connection.
        public var handshakeTimeout: TimeAmount
        public var mux: MuxConfiguration
        /// How often the mux session's timer (keepalive, ping timeout) runs.
        public var tickInterval: TimeAmount

        public init(identity: IdentityKey, features: [String] = ["payments/1"],
                    protocols: Set<StreamProtocolID> = [.payments],
                    handshakeTimeout: TimeAmount = .seconds(10),
                    mux: MuxConfiguration = MuxConfiguration(), tickInterval: TimeAmount = .seconds(1)) {
            self.identity = identity
            self.features = features
            self.protocols = protocols
            self.handshakeTimeout = handshakeTimeout
            self.mux = mux
            self.tickInterval = tickInterval
        }
    }

    public let configuration: Configuration
    public let group: any EventLoopGroup
    /// The Noise static key of this endpoint, bound to the identity by the handshake's proof.
    public let noiseStaticPublicKey: X25519.PublicKey
    /// Authenticated connections that peers opened to us.
    public let inboundConnections: AsyncStream<PaymeshConnection>
    /// Every connection that failed (handshake, transport or mux), for logs and tests; the
    /// endpoint goes on serving its other connections.
    public let failures: AsyncStream<TransportError>

    private let local: LocalIdentity
    private let inboundContinuation: AsyncStream<PaymeshConnection>.Continuation
    private let failureContinuation: AsyncStream<TransportError>.Continuation
    private let servers = NIOLockedValueBox<[any Channel]>([])

    /// Signs this endpoint's identity proof once (a fresh Noise static key per endpoint).
    public init(configuration: Configuration, group: any EventLoopGroup) throws {
        self.configuration = configuration
        self.group = group
        self.local = try LocalIdentity(identity: configuration.identity, features: configuration.features)
        self.noiseStaticPublicKey = local.staticKey.publicKey
        (inboundConnections, inboundContinuation) = AsyncStream<PaymeshConnection>.makeStream()
        (failures, failureContinuation) = AsyncStream<TransportError>.makeStream(bufferingPolicy: .bufferingNewest(1024))
    }

    /// Starts listening; returns the bound address (port 0 picks a free port).
    public func listen(host: String = "127.0.0.1", port: Int = 0) async throws -> SocketAddress {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                self.install(on: channel, role: .responder, expecting: nil, promise: nil)
            }
            .bind(host: host, port: port).get()
        servers.withLockedValue { $0.append(channel) }
        return channel.localAddress!
    }

    /// Dials `address` and completes the handshake. With `expecting`, the connection fails with
    /// `.unexpectedPeer` unless the peer proves that identity.
    public func connect(to address: SocketAddress, expecting: EthereumAddress? = nil) async throws -> PaymeshConnection {
        let promise = group.next().makePromise(of: PaymeshConnection.self)
        do {
            _ = try await ClientBootstrap(group: promise.futureResult.eventLoop)
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connectTimeout(.seconds(10))
                .channelInitializer { [self] channel in
                    self.install(on: channel, role: .initiator, expecting: expecting, promise: promise)
                }
                .connect(to: address).get()
        } catch {
            promise.fail(error)
        }
        return try await promise.futureResult.get()
    }

    public func connect(host: String, port: Int, expecting: EthereumAddress? = nil) async throws -> PaymeshConnection {
        try await connect(to: SocketAddress.makeAddressResolvingHost(host, port: port), expecting: expecting)
    }

    /// Stops listening. Established connections stay up until closed.
    public func stopListening() async {
        let channels = servers.withLockedValue { s in defer { s.removeAll() }; return s }
        for c in channels { try? await c.close() }
    }

    /// Stops listening and finishes the endpoint's streams.
    public func shutdown() async {
        await stopListening()
        inboundContinuation.finish()
        failureContinuation.finish()
    }

    private func install(on channel: any Channel, role: NoiseRole, expecting: EthereumAddress?,
                         promise: EventLoopPromise<PaymeshConnection>?) -> EventLoopFuture<Void> {
        let failures = failureContinuation
        let inbound = inboundContinuation
        // The dial promise completes exactly once: with the connection, or with the first failure.
        let settled = NIOLockedValueBox(false)
        let settle: @Sendable () -> Bool = { settled.withLockedValue { done in defer { done = true }; return !done } }
        let onFailure: @Sendable (TransportError) -> Void = { error in
            failures.yield(error)
            if let promise, settle() { promise.fail(error) }
        }
        let handshake: PaymeshHandshake
        do {
            handshake = try PaymeshHandshake(role: role, local: local, expectedPeer: expecting)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let mux = MuxHandler(
            eventLoop: channel.eventLoop, role: role == .initiator ? .dialer : .listener,
            muxConfiguration: configuration.mux, supportedProtocols: configuration.protocols,
            tickInterval: configuration.tickInterval,
            onEstablished: { connection in
                if let promise {
                    if settle() { promise.succeed(connection) }
                } else {
                    inbound.yield(connection)
                }
            },
            onFailure: onFailure)
        let noise = NoiseHandler(handshake: handshake, handshakeTimeout: configuration.handshakeTimeout, onFailure: onFailure)
        do {
            try channel.pipeline.syncOperations.addHandlers([noise, mux])
            return channel.eventLoop.makeSucceededVoidFuture()
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
    }
}
