import NIOConcurrencyHelpers
public import NIOCore
public import PaymeshMux
public import PaymeshNoise
public import PaymeshTransport

/// One end of an in-memory connection between two `MemoryTransport`s. The peer is authenticated
/// by construction: the network hands each end the other transport's identity.
public final class MemoryConnection: PeerConnection {
    public let peer: AuthenticatedPeer
    public let remoteAddress: SocketAddress?
    public let inboundStreams: AsyncStream<MemoryStream>
    private let inboundContinuation: AsyncStream<MemoryStream>.Continuation
    /// The transport this end belongs to (it decides which protocols its end accepts).
    let transport: MemoryTransport

    private struct State {
        var remote: MemoryConnection?
        /// Nil while open; the close's outcome (nil error: a clean close) once closed.
        var outcome: Result<Void, TransportError>?
        var waiters: [CheckedContinuation<Void, any Error>] = []
        /// Streams to end if the connection closes (finished ones are pruned at each open).
        var streams: [MemoryStream] = []
        var bytesReceived: UInt64 = 0
        var bytesSent: UInt64 = 0
        /// What this end writes is held from the remote end (`holdOutgoing`), on every stream.
        var holding = false
    }

    private let state = NIOLockedValueBox(State())

    init(transport: MemoryTransport, peer: AuthenticatedPeer, remotePort: Int) {
        self.transport = transport
        self.peer = peer
        remoteAddress = try? SocketAddress(ipAddress: MemoryNetwork.host, port: remotePort)
        (inboundStreams, inboundContinuation) = AsyncStream.makeStream()
    }

    /// Joins two ends.
    static func join(_ a: MemoryConnection, _ b: MemoryConnection) {
        a.state.withLockedValue { $0.remote = b }
        b.state.withLockedValue { $0.remote = a }
    }

    public var isClosed: Bool { state.withLockedValue { $0.outcome != nil } }

    public func openStream(_ protocolID: StreamProtocolID) async throws -> MemoryStream {
        guard let remote = state.withLockedValue({ $0.outcome == nil ? $0.remote : nil }) else {
            throw TransportError(.connectionClosed, "the connection to \(peer.address) is closed")
        }
        let toRemote = MemoryPipe { [weak self, weak remote] n in
            self?.count(sent: n)
            remote?.count(received: n)
        }
        let fromRemote = MemoryPipe { [weak self, weak remote] n in
            remote?.count(sent: n)
            self?.count(received: n)
        }
        let mine = MemoryStream(protocolID: protocolID, incoming: fromRemote, outgoing: toRemote)
        let theirs = MemoryStream(protocolID: protocolID, incoming: toRemote, outgoing: fromRemote)
        track(mine)
        remote.accept(theirs)
        return mine
    }

    /// A stream the remote end opened: delivered if this side offers its protocol, else reset
    /// (Specs/streams.md: an unregistered protocol gets RST).
    private func accept(_ stream: MemoryStream) {
        guard transport.offeredProtocols.contains(stream.protocolID) else {
            transport.countRejectedStream()
            return stream.end(TransportError(.streamReset, "the peer does not offer \(stream.protocolID)"))
        }
        guard track(stream) else { return }
        inboundContinuation.yield(stream)
    }

    @discardableResult
    private func track(_ stream: MemoryStream) -> Bool {
        let open = state.withLockedValue { s in
            guard s.outcome == nil else { return false }
            s.streams.removeAll { $0.isFinished } // bounded by the streams still open
            s.streams.append(stream)
            if s.holding { stream.holdOutgoing() }
            return true
        }
        if !open { stream.end(TransportError(.connectionClosed, "connection closed")) }
        return open
    }

    /// Holds every byte this end writes (on every stream, also streams opened later) from the
    /// remote end until `releaseOutgoing`, which delivers them in order: a slow link direction.
    func holdOutgoing() {
        state.withLockedValue { s in
            s.holding = true
            for stream in s.streams { stream.holdOutgoing() }
        }
    }

    func releaseOutgoing() {
        state.withLockedValue { s in
            s.holding = false
            for stream in s.streams { stream.releaseOutgoing() }
        }
    }

    private func count(sent n: Int) { state.withLockedValue { $0.bytesSent &+= UInt64(n) } }
    private func count(received n: Int) { state.withLockedValue { $0.bytesReceived &+= UInt64(n) } }

    public var traffic: (bytesReceived: UInt64, bytesSent: UInt64) { state.withLockedValue { ($0.bytesReceived, $0.bytesSent) } }

    /// Delivery in memory is immediate: the round trip is zero.
    public func ping() async throws -> TimeAmount {
        guard !isClosed else { throw TransportError(.connectionClosed, "the connection to \(peer.address) is closed") }
        return .zero
    }

    public func close() async { terminate(nil) }

    public func closed() async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let outcome: Result<Void, TransportError>? = state.withLockedValue { s in
                if s.outcome == nil { s.waiters.append(c) }
                return s.outcome
            }
            if let outcome { c.resume(with: outcome) }
        }
    }

    /// Closes both ends: cleanly (`error` nil, a graceful close) or with `error` (a cut link, a
    /// crashed node).
    func terminate(_ error: TransportError?) {
        let remote = state.withLockedValue { $0.remote }
        end(error)
        remote?.end(error)
    }

    private func end(_ error: TransportError?) {
        let outcome: Result<Void, TransportError> = error.map { .failure($0) } ?? .success(())
        let ended: (streams: [MemoryStream], waiters: [CheckedContinuation<Void, any Error>])? = state.withLockedValue { s in
            guard s.outcome == nil else { return nil }
            s.outcome = outcome
            s.remote = nil
            defer { s.streams.removeAll(); s.waiters.removeAll() }
            return (s.streams, s.waiters)
        }
        guard let ended else { return }
        let reason = error ?? TransportError(.connectionClosed, "connection closed")
        for stream in ended.streams { stream.end(reason) }
        inboundContinuation.finish()
        transport.forget(self)
        for w in ended.waiters { w.resume(with: outcome.mapError { $0 as any Error }) }
    }
}
