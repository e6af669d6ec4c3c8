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
        /// Features advertised in the identity proof at first (see `offer(protocols:features:)`).
        public var features: [String]
        /// Stream protocols this endpoint accepts at first; others are reset (Specs/streams.md).
        /// The transport names no application protocol: its caller (the node's protocol router)
        /// says what it offers, here or later with `offer(protocols:features:)`.
        public var protocols: Set<StreamProtocolID>
        /// transport.md: the handshake must complete within 10 s of the TCP connection.
        public var handshakeTimeout: TimeAmount
        public var mux: MuxConfiguration
        /// How often the mux session's timer (keepalive, ping timeout) runs.
        public var tickInterval: TimeAmount
        /// Caps on pending handshakes and inbound connections (issue 7 item 3).
        public var admission: ConnectionAdmission.Limits
        /// Per connection: above `high` bytes waiting for the socket, reading from the peer
        /// pauses until they drain below `low` (issue 7 item 5).
        public var writeBufferWaterMark: ChannelOptions.Types.WriteBufferWaterMark
        public static let defaultWriteBufferWaterMark = ChannelOptions.Types.WriteBufferWaterMark(low: 256 * 1024, high: 1024 * 1024)

        public init(identity: IdentityKey, features: [String] = [],
                    protocols: Set<StreamProtocolID> = [],
                    handshakeTimeout: TimeAmount = .seconds(10),
                    mux: MuxConfiguration = MuxConfiguration(), tickInterval: TimeAmount = .seconds(1),
                    admission: ConnectionAdmission.Limits = .init(),
                    writeBufferWaterMark: ChannelOptions.Types.WriteBufferWaterMark = Configuration.defaultWriteBufferWaterMark) {
            self.identity = identity
            self.features = features
            self.protocols = protocols
            self.handshakeTimeout = handshakeTimeout
            self.mux = mux
            self.tickInterval = tickInterval
            self.admission = admission
            self.writeBufferWaterMark = writeBufferWaterMark
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

    /// What this endpoint offers now: the accepted stream protocols and the identity (with its
    /// signed proof, whose features follow the protocols). Read at each handshake and each
    /// inbound stream's protocol selection.
    private let offered: NIOLockedValueBox<Offer>
    private let identity: IdentityKey
    private let staticKey: X25519.PrivateKey

    struct Offer: Sendable {
        var protocols: Set<StreamProtocolID>
        var local: LocalIdentity
    }
    private let inboundContinuation: AsyncStream<PaymeshConnection>.Continuation
    private let failureContinuation: AsyncStream<TransportError>.Continuation
    private let servers = NIOLockedValueBox<[any Channel]>([])
    private let admission: NIOLockedValueBox<ConnectionAdmission>
    /// Inbound connections still in their handshake, by admission ticket (to close an evicted one).
    private let pendingChannels = NIOLockedValueBox<[ConnectionAdmission.Ticket: any Channel]>([:])

    /// Pending handshakes, inbound connections and what admission refused.
    public var admissionState: ConnectionAdmission { admission.withLockedValue { $0 } }

    /// Signs this endpoint's identity proof once (a fresh Noise static key per endpoint).
    public init(configuration: Configuration, group: any EventLoopGroup) throws {
        self.configuration = configuration
        self.group = group
        self.identity = configuration.identity
        self.staticKey = X25519.PrivateKey()
        let local = try LocalIdentity(identity: configuration.identity, staticKey: staticKey, features: configuration.features)
        self.offered = NIOLockedValueBox(Offer(protocols: configuration.protocols, local: local))
        self.noiseStaticPublicKey = staticKey.publicKey
        (inboundConnections, inboundContinuation) = AsyncStream<PaymeshConnection>.makeStream()
        (failures, failureContinuation) = AsyncStream<TransportError>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        admission = NIOLockedValueBox(ConnectionAdmission(limits: configuration.admission, descriptorLimit: DescriptorLimit.current()))
    }

    /// Replaces what this endpoint offers: inbound streams of other protocols are reset from now
    /// on, and later handshakes advertise `features` (the proof is signed again, same Noise key).
    public func offer(protocols: Set<StreamProtocolID>, features: [String]) throws {
        let local = try LocalIdentity(identity: identity, staticKey: staticKey, features: features)
        offered.withLockedValue { $0 = Offer(protocols: protocols, local: local) }
    }

    /// The stream protocols accepted now.
    public var offeredProtocols: Set<StreamProtocolID> { offered.withLockedValue { $0.protocols } }

    /// Starts listening; returns the bound address (port 0 picks a free port).
    public func listen(host: String = "127.0.0.1", port: Int = 0) async throws -> SocketAddress {
        let admission = self.admission
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelInitializer { server in
                server.eventLoop.makeCompletedFuture {
                    // accept(2) failing (EMFILE, ENFILE, ENOBUFS) backs off for a second instead
                    // of spinning; counted, never fatal.
                    try server.pipeline.syncOperations.addHandler(AcceptBackoffHandler(shouldForwardIOErrorCaught: false) { _ in
                        admission.withLockedValue { $0.onAcceptError() }
                        return .seconds(1)
                    })
                    try server.pipeline.syncOperations.addHandler(AcceptGate(admission: admission))
                }
            }
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.writeBufferWaterMark, value: configuration.writeBufferWaterMark)
            .childChannelInitializer { [self] channel in
                self.admit(channel)
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
                .channelOption(.writeBufferWaterMark, value: configuration.writeBufferWaterMark)
                .connectTimeout(.seconds(10))
                .channelInitializer { [self] channel in
                    self.install(on: channel, role: .initiator, expecting: expecting, promise: promise)
                }
                .connect(to: address).get()
        } catch {
            promise.fail(TransportError.wrap(error, as: .connectionClosed))
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

    /// Admits an accepted connection (pending-handshake and connection caps) or closes it; at the
    /// global pending cap the oldest pending handshake is closed to make room.
    private func admit(_ channel: any Channel) -> EventLoopFuture<Void> {
        let address = channel.remoteAddress?.ipAddress
        let decision = admission.withLockedValue { $0.onAccepted(address: address) }
        guard case .admit(let ticket, let evicting) = decision else {
            failureContinuation.yield(TransportError(.admissionRefused, "\(decision) (\(address ?? "?"))"))
            channel.close(mode: .all, promise: nil)
            return channel.eventLoop.makeSucceededVoidFuture()
        }
        let pendingChannels = self.pendingChannels
        let victim = pendingChannels.withLockedValue { p -> (any Channel)? in
            p[ticket] = channel
            return evicting.flatMap { p.removeValue(forKey: $0) }
        }
        if let victim {
            failureContinuation.yield(TransportError(.admissionRefused, "oldest pending handshake evicted (\(victim.remoteAddress?.ipAddress ?? "?"))"))
            victim.close(mode: .all, promise: nil)
        }
        let admission = self.admission
        let finishHandshake: @Sendable () -> Void = {
            pendingChannels.withLockedValue { _ = $0.removeValue(forKey: ticket) }
            admission.withLockedValue { $0.onHandshakeFinished(ticket) }
        }
        channel.closeFuture.whenComplete { _ in
            pendingChannels.withLockedValue { _ = $0.removeValue(forKey: ticket) }
            let resume = admission.withLockedValue { a -> Bool in
                let before = a.accepting
                a.onClosed(ticket)
                return !before && a.accepting
            }
            if resume { self.resumeAccepting() }
        }
        return install(on: channel, role: .responder, expecting: nil, promise: nil, handshakeFinished: finishHandshake)
    }

    /// The connection count dropped below the cap: let the listeners accept again.
    private func resumeAccepting() {
        for server in servers.withLockedValue({ $0 }) {
            server.pipeline.fireUserInboundEventTriggered(AcceptGate.Resume())
        }
    }

    private func install(on channel: any Channel, role: NoiseRole, expecting: EthereumAddress?,
                         promise: EventLoopPromise<PaymeshConnection>?,
                         handshakeFinished: (@Sendable () -> Void)? = nil) -> EventLoopFuture<Void> {
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
            handshake = try PaymeshHandshake(role: role, local: offered.withLockedValue { $0.local }, expectedPeer: expecting)
        } catch {
            return channel.eventLoop.makeFailedFuture(error)
        }
        let mux = MuxHandler(
            eventLoop: channel.eventLoop, role: role == .initiator ? .dialer : .listener,
            muxConfiguration: configuration.mux, supportedProtocols: { [offered] id in offered.withLockedValue { $0.protocols.contains(id) } },
            tickInterval: configuration.tickInterval,
            onEstablished: { connection in
                handshakeFinished?()
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

/// On the listening channel: holds back accepting (`read`) while admission is at its
/// connection cap, so new connections wait in the kernel backlog instead of taking descriptors.
final class AcceptGate: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = any Channel
    typealias InboundOut = any Channel
    typealias OutboundIn = Never
    struct Resume {}

    private let admission: NIOLockedValueBox<ConnectionAdmission>
    private var readPending = false

    init(admission: NIOLockedValueBox<ConnectionAdmission>) { self.admission = admission }

    func read(context: ChannelHandlerContext) {
        if admission.withLockedValue({ $0.accepting }) {
            context.read()
        } else {
            readPending = true
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is Resume else { return context.fireUserInboundEventTriggered(event) }
        if readPending, admission.withLockedValue({ $0.accepting }) {
            readPending = false
            context.read()
        }
    }
}
