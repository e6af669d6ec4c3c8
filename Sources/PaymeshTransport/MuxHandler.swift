import NIOCore
import PaymeshMux
import PaymeshNoise

/// The per-connection core: owns the yamux session (sans-IO), performs the actions it returns,
/// selects each stream's protocol, and hands streams to the application.
///
/// Event-loop confined: every method runs on `eventLoop` (public API types hop here first).
/// Frames produced while handling one inbound read, or one API call, are flushed together so
/// that they share one Noise message and one TCP write.
///
/// Back-pressure (issue 7 item 5): while the socket is not writable (the peer does not read what
/// we send, e.g. ping replies) the handler stops reading from it, so whatever the peer sends
/// cannot make us queue more; reading resumes once the socket drains.
final class MuxHandler: ChannelDuplexHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// A writer waits once this many bytes of its stream are queued behind the peer's window.
    static let writeHighWatermark = 256 * 1024
    /// How long a closing connection waits for its last frames (GoAway) to be written.
    static let closeFlushTimeout = TimeAmount.seconds(2)

    private enum InboundStreamState {
        /// Opened by the peer; reading its protocol header (streams.md).
        case awaitingHeader(StreamProtocolHeader)
        case active(PaymeshStream)
    }

    let eventLoop: any EventLoop
    private let role: YamuxSession.Role
    private let muxConfiguration: MuxConfiguration
    /// Whether an inbound stream's protocol is offered (asked at its protocol selection).
    private let supportedProtocols: @Sendable (StreamProtocolID) -> Bool
    private let tickInterval: TimeAmount
    private let onEstablished: (PaymeshConnection) -> Void
    private let onFailure: @Sendable (TransportError) -> Void

    private var context: ChannelHandlerContext?
    private var session: YamuxSession?
    private var streams: [StreamID: InboundStreamState] = [:]
    private var timer: RepeatedTask?
    private var pingWaiters: [UInt32: EventLoopPromise<TimeAmount>] = [:]
    private var nextPingValue: UInt32 = 0x8000_0000 // keepalive uses small values; API pings the upper half
    private var needsFlush = false
    private var inRead = false
    private(set) var connection: PaymeshConnection?
    private var closeError: TransportError?
    /// A `read` was held back while the socket was not writable.
    private var readPending = false
    private var closing = false

    init(eventLoop: any EventLoop, role: YamuxSession.Role, muxConfiguration: MuxConfiguration,
         supportedProtocols: @escaping @Sendable (StreamProtocolID) -> Bool, tickInterval: TimeAmount,
         onEstablished: @escaping (PaymeshConnection) -> Void,
         onFailure: @escaping @Sendable (TransportError) -> Void) {
        self.eventLoop = eventLoop
        self.role = role
        self.muxConfiguration = muxConfiguration
        self.supportedProtocols = supportedProtocols
        self.tickInterval = tickInterval
        self.onEstablished = onEstablished
        self.onFailure = onFailure
    }

    // MARK: Channel events

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let done = event as? NoiseHandshakeCompleted else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        session = YamuxSession(role: role, configuration: muxConfiguration)
        let connection = PaymeshConnection(peer: done.peer, channel: context.channel, core: self)
        self.connection = connection
        if !context.channel.isWritable { connection.readPaused(true) }
        timer = context.eventLoop.scheduleRepeatedTask(initialDelay: tickInterval, delay: tickInterval) { [weak self] _ in
            guard let self, self.session != nil else { return }
            self.perform(self.session!.onTimerTick(now: .now()))
            self.flushIfNeeded()
        }
        onEstablished(connection)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard session != nil else { return }
        let bytes = unwrapInboundIn(data)
        connection?.recordTraffic(received: bytes.readableBytes, sent: 0)
        inRead = true
        perform(session!.receive(bytes, now: .now()))
        inRead = false
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flushIfNeeded()
        context.fireChannelReadComplete()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        closeError = closeError ?? .wrap(error, as: .transportFailed)
        context.close(promise: nil)
    }

    // MARK: Back-pressure

    func read(context: ChannelHandlerContext) {
        if session != nil, !context.channel.isWritable {
            if !readPending { connection?.readHeld() }
            readPending = true
            return
        }
        context.read()
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        let writable = context.channel.isWritable
        connection?.readPaused(!writable)
        if writable, readPending {
            readPending = false
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    func channelInactive(context: ChannelHandlerContext) {
        timer?.cancel()
        timer = nil
        let error = closeError ?? TransportError(.connectionClosed)
        for (_, state) in streams {
            if case .active(let stream) = state { stream.finish(error) }
        }
        streams.removeAll()
        for (_, p) in pingWaiters { p.fail(error) }
        pingWaiters.removeAll()
        session = nil
        connection?.didClose(error: closeError)
        // Break the handler ↔ connection cycle so both are freed with the channel (issue 7 item 6).
        connection = nil
        self.context = nil
        context.fireChannelInactive()
    }

    // MARK: Performing session actions

    private func perform(_ actions: [YamuxSession.Action]) {
        for action in actions {
            switch action {
            case .send(let bytes):
                connection?.recordTraffic(received: 0, sent: bytes.readableBytes)
                context?.write(wrapOutboundOut(bytes), promise: nil)
                needsFlush = true
            case .streamOpened(let id):
                streams[id] = .awaitingHeader(StreamProtocolHeader())
            case .streamData(let id, let bytes):
                streamData(id, bytes)
            case .streamRemoteClosed(let id):
                if case .active(let s) = streams[id] { s.finishInbound(nil) }
            case .streamReset(let id):
                if case .active(let s) = streams[id] { s.finish(TransportError(.streamReset, "stream \(id) reset by peer")) }
            case .streamClosed(let id):
                if case .active(let s) = streams.removeValue(forKey: id) {
                    s.finish(nil)
                    s.core = nil
                }
            case .streamWritable(let id):
                if case .active(let s) = streams[id] { s.writable() }
            case .pingResponse(let value, let rtt):
                connection?.recordRTT(rtt)
                pingWaiters.removeValue(forKey: value)?.succeed(rtt)
            case .goAwayReceived:
                connection?.peerSentGoAway = true
            case .closeConnection(let error):
                if let error, closeError == nil {
                    let kind: TransportError.Kind = error.isSendQueueFull ? .queueLimit : .muxProtocolError
                    let failure = TransportError(kind, String(describing: error))
                    closeError = failure
                    onFailure(failure)
                }
                closeAfterFlushing()
            }
        }
    }

    private func streamData(_ id: StreamID, _ bytes: ByteBuffer) {
        switch streams[id] {
        case .active(let s):
            s.deliver(bytes)
        case .awaitingHeader(var decoder):
            let fed = bytes.readableBytes
            do {
                guard let (protocolID, remainder) = try decoder.decode(bytes) else {
                    streams[id] = .awaitingHeader(decoder)
                    perform(session!.consumed(stream: id, bytes: fed))
                    return
                }
                perform(session!.consumed(stream: id, bytes: fed - remainder.readableBytes))
                guard supportedProtocols(protocolID), let connection else {
                    streams[id] = nil
                    perform(session!.reset(stream: id))
                    return
                }
                let stream = PaymeshStream(id: id, protocolID: protocolID, eventLoop: eventLoop, core: self)
                streams[id] = .active(stream)
                perform(try session!.accept(stream: id))
                if remainder.readableBytes > 0 { stream.deliver(remainder) }
                connection.deliverInbound(stream)
            } catch {
                streams[id] = nil
                perform(session!.reset(stream: id))
            }
        case nil:
            break
        }
    }

    private func flushIfNeeded() {
        guard needsFlush, !inRead, let context else { return }
        needsFlush = false
        context.flush()
    }

    func flushNow() { flushIfNeeded() }

    // MARK: API (called on the event loop by PaymeshConnection / PaymeshStream)

    func openStream(protocolID: StreamProtocolID) throws -> PaymeshStream {
        eventLoop.preconditionInEventLoop()
        guard session != nil else { throw closeError ?? TransportError(.connectionClosed) }
        let id: StreamID
        do { id = try session!.openStream() } catch { throw TransportError(.invalidState, String(describing: error)) }
        let stream = PaymeshStream(id: id, protocolID: protocolID, eventLoop: eventLoop, core: self)
        streams[id] = .active(stream)
        _ = try write(stream: id, data: StreamProtocolHeader.encode(protocolID))
        return stream
    }

    /// Writes on a stream; returns true when the writer should wait for `.streamWritable`.
    @discardableResult
    func write(stream id: StreamID, data: ByteBuffer, flush: Bool = true) throws -> Bool {
        guard session != nil else { throw closeError ?? TransportError(.connectionClosed) }
        do {
            perform(try session!.write(stream: id, data: data))
        } catch {
            throw TransportError(.invalidState, String(describing: error))
        }
        if flush { flushIfNeeded() }
        return session.map { $0.queuedBytes(of: id) > Self.writeHighWatermark } ?? false
    }

    func consumed(stream id: StreamID, bytes: Int) {
        guard session != nil else { return }
        perform(session!.consumed(stream: id, bytes: bytes))
        flushIfNeeded()
    }

    func close(stream id: StreamID) {
        guard session != nil else { return }
        if let actions = try? session!.close(stream: id) { perform(actions) }
        flushIfNeeded()
    }

    func reset(stream id: StreamID) {
        guard session != nil else { return }
        if case .active(let s) = streams.removeValue(forKey: id) {
            s.finish(TransportError(.streamReset, "stream \(id) reset locally"))
            s.core = nil
        }
        perform(session!.reset(stream: id))
        flushIfNeeded()
    }

    func ping() -> EventLoopFuture<TimeAmount> {
        guard session != nil else { return eventLoop.makeFailedFuture(TransportError(.connectionClosed)) }
        let value = nextPingValue
        nextPingValue = nextPingValue == UInt32.max ? 0x8000_0000 : nextPingValue + 1
        let promise = eventLoop.makePromise(of: TimeAmount.self)
        pingWaiters[value] = promise
        perform(session!.ping(value: value, now: .now()))
        flushIfNeeded()
        return promise.futureResult
    }

    /// Graceful close: GoAway(normal), flush, then close the TCP connection.
    func goAwayAndClose() {
        if session != nil { perform(session!.goAway(code: .normal)) }
        closeAfterFlushing()
    }

    /// Flushes what is queued (a GoAway in particular, mux.md §7) — also in the middle of a
    /// read — and closes the TCP connection once it is written, or at once if writing fails.
    private func closeAfterFlushing() {
        guard let context, !closing else { return }
        closing = true
        needsFlush = false
        let written = context.eventLoop.makePromise(of: Void.self)
        let channel = context.channel
        // A peer that does not read never lets the write complete: close anyway after a while.
        let deadline = context.eventLoop.scheduleTask(in: Self.closeFlushTimeout) { channel.close(promise: nil) }
        written.futureResult.whenComplete { _ in
            deadline.cancel()
            channel.close(promise: nil)
        }
        // An empty write carries the promise through the Noise handler with the pending bytes.
        context.write(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: written)
        context.flush()
    }
}
