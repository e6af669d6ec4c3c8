public import NIOCore
public import PaymeshMux
public import PaymeshNoise
import NIOConcurrencyHelpers

/// An authenticated, encrypted, multiplexed connection to one peer.
///
/// Thread-safe: methods hop to the connection's event loop, where `MuxHandler` owns all state.
public final class PaymeshConnection: Sendable {
    /// Who the peer proved to be in the handshake (identity address, Noise key, features).
    public let peer: AuthenticatedPeer
    public let remoteAddress: SocketAddress?
    public let localAddress: SocketAddress?
    public let eventLoop: any EventLoop
    /// Streams the peer opened with a protocol this endpoint speaks.
    public let inboundStreams: AsyncStream<PaymeshStream>
    /// Completes when the connection is closed: succeeds for a clean close, fails with the reason.
    public var closeFuture: EventLoopFuture<Void> { closePromise.futureResult }

    private let channel: any Channel
    private let inboundContinuation: AsyncStream<PaymeshStream>.Continuation
    private let closePromise: EventLoopPromise<Void>
    private let stats = NIOLockedValueBox(Stats())
    // Touched only on the event loop; `MuxHandler` is event-loop confined.
    private let core: NIOLoopBound<MuxHandler>

    struct Stats {
        var lastRTT: TimeAmount?
        var peerSentGoAway = false
        var bytesReceived: UInt64 = 0
        var bytesSent: UInt64 = 0
        var readPaused = false
        var readPauses: UInt64 = 0
        var readsHeld: UInt64 = 0
    }

    init(peer: AuthenticatedPeer, channel: any Channel, core: MuxHandler) {
        self.peer = peer
        self.channel = channel
        self.remoteAddress = channel.remoteAddress
        self.localAddress = channel.localAddress
        self.eventLoop = channel.eventLoop
        self.core = NIOLoopBound(core, eventLoop: channel.eventLoop)
        self.closePromise = channel.eventLoop.makePromise()
        (inboundStreams, inboundContinuation) = AsyncStream<PaymeshStream>.makeStream()
    }

    /// Opens a stream that carries `protocolID`. The protocol header goes out with the stream's
    /// first frame; a peer that does not speak the protocol resets the stream.
    public func openStream(_ protocolID: StreamProtocolID) async throws -> PaymeshStream {
        let core = self.core
        return try await eventLoop.submit { try core.value.openStream(protocolID: protocolID) }.get()
    }

    /// Round-trip time of a yamux ping.
    public func ping() async throws -> TimeAmount {
        let core = self.core
        return try await eventLoop.flatSubmit { core.value.ping() }.get()
    }

    /// The last measured round-trip time (keepalive or explicit ping).
    public var lastRTT: TimeAmount? { stats.withLockedValue { $0.lastRTT } }

    /// True once the peer sent GoAway: no new streams may be opened.
    public var peerSentGoAway: Bool {
        get { stats.withLockedValue { $0.peerSentGoAway } }
        set { stats.withLockedValue { $0.peerSentGoAway = newValue } }
    }

    /// Bytes of the multiplexed stream received and sent so far (yamux frames, i.e. the Noise
    /// plaintext; the wire adds 18 bytes per Noise message).
    public var traffic: (bytesReceived: UInt64, bytesSent: UInt64) {
        stats.withLockedValue { ($0.bytesReceived, $0.bytesSent) }
    }

    /// Back-pressure (issue 7 item 5): whether the socket is full because the peer does not read
    /// what we send, how many times that happened, and how many times a socket read was held
    /// back for it (reading resumes when the socket drains).
    public var backPressure: (paused: Bool, pauses: UInt64, readsHeld: UInt64) {
        stats.withLockedValue { ($0.readPaused, $0.readPauses, $0.readsHeld) }
    }

    /// Graceful close: yamux GoAway(normal), then the TCP connection is closed.
    public func close() async {
        let core = self.core
        eventLoop.execute { core.value.goAwayAndClose() }
        try? await closeFuture.get()
    }

    // MARK: Called by MuxHandler on the event loop

    func recordRTT(_ rtt: TimeAmount) { stats.withLockedValue { $0.lastRTT = rtt } }

    func recordTraffic(received: Int, sent: Int) {
        stats.withLockedValue {
            $0.bytesReceived &+= UInt64(received)
            $0.bytesSent &+= UInt64(sent)
        }
    }

    func readPaused(_ paused: Bool) {
        stats.withLockedValue {
            if paused, !$0.readPaused { $0.readPauses += 1 }
            $0.readPaused = paused
        }
    }

    func readHeld() { stats.withLockedValue { $0.readsHeld += 1 } }

    func deliverInbound(_ stream: PaymeshStream) { inboundContinuation.yield(stream) }

    func didClose(error: TransportError?) {
        inboundContinuation.finish()
        if let error { closePromise.fail(error) } else { closePromise.succeed(()) }
    }
}
