import NIOCore

/// One yamux session (one per connection), sans-IO: feed it bytes and API calls, perform the
/// actions it returns. No sockets, tasks or clocks inside; time is passed in as `NIODeadline`.
///
/// Every call that returns `[Action]` coalesces all frames it produced into at most one
/// `.send`, placed after the stream events and before a final `.closeConnection`.
public struct YamuxSession: Sendable {
    public enum Role: Sendable { case dialer, listener }

    public enum Action: Hashable, Sendable {
        /// Encoded frames to write to the connection, in order.
        case send(ByteBuffer)
        /// The peer opened a stream (SYN). Call `accept` (ACK) or `reset` (reject) — writing or
        /// closing it also accepts it. Data may arrive before it is accepted.
        case streamOpened(StreamID)
        /// Payload for the application; report it with `consumed` once read.
        case streamData(StreamID, ByteBuffer)
        /// The peer sent FIN: no more data will arrive; we may still write.
        case streamRemoteClosed(StreamID)
        /// The peer sent RST. Followed by `.streamClosed`.
        case streamReset(StreamID)
        /// The stream is gone (both FINs, or reset); its state was freed.
        case streamClosed(StreamID)
        /// Data that had to wait for the peer's window has all been sent.
        case streamWritable(StreamID)
        case pingResponse(value: UInt32, rtt: TimeAmount)
        case goAwayReceived(GoAwayCode)
        /// Close the connection; nil for a local non-normal GoAway, otherwise the reason.
        case closeConnection(MuxError?)
    }

    struct PendingPing: Sendable {
        var value: UInt32
        var sentAt: NIODeadline
    }

    public let role: Role
    public let configuration: MuxConfiguration

    var decoder: YamuxFrameDecoder
    var streams: [StreamID: YamuxStream] = [:]
    var nextOutboundID: UInt32
    var outboundIDsExhausted = false
    var lastInboundID: UInt32 = 0
    /// Outbound streams whose SYN is not written yet, ascending.
    var pendingSyns = CircularBuffer<StreamID>()
    var inboundBacklog = 0
    var outboundUnacked = 0
    var sentGoAway = false
    var receivedGoAway = false
    var closed = false
    var closeReason: MuxError?
    var closeReported = false
    var pings: [PendingPing] = []
    var keepaliveCounter: UInt32 = 0
    var lastKeepalive: NIODeadline?
    var outbound = ByteBuffer()
    var actions: [Action] = []
    /// Sum of every stream's `queuedBytes` (bounded by `configuration.maxQueuedBytes`).
    var totalQueuedBytes = 0

    /// Window advertised on top of the spec's initial 256 KiB when a stream opens.
    var extraWindow: UInt32 { configuration.receiveWindow - MuxConfiguration.initialStreamWindow }

    public init(role: Role, configuration: MuxConfiguration = MuxConfiguration()) {
        self.role = role
        self.configuration = configuration
        self.decoder = YamuxFrameDecoder(maxDataLength: configuration.maxDataFrameLength)
        self.nextOutboundID = role == .dialer ? 1 : 2
    }

    // MARK: Introspection

    public var isClosed: Bool { closed }
    public var streamCount: Int { streams.count }
    public var peerSentGoAway: Bool { receivedGoAway }
    public func state(of id: StreamID) -> StreamState? { streams[id]?.publicState }
    /// Bytes accepted by `write` but still waiting for the peer's window.
    public func queuedBytes(of id: StreamID) -> Int { streams[id]?.queuedBytes ?? 0 }
    /// Bytes accepted by `write` still waiting for window, all streams together.
    public var queuedBytes: Int { totalQueuedBytes }
    public func sendWindow(of id: StreamID) -> UInt32? { streams[id]?.sendWindow }
    public func receiveWindow(of id: StreamID) -> UInt32? { streams[id]?.receiveWindow }
    /// When `onTimerTick` next has work (keepalive due or a ping timing out).
    public var nextDeadline: NIODeadline? {
        guard !closed else { return nil }
        var deadline = pings.first.map { $0.sentAt + configuration.pingTimeout }
        if let interval = configuration.keepaliveInterval, let last = lastKeepalive {
            deadline = min(deadline ?? .distantFuture, last + interval)
        }
        return deadline
    }

    // MARK: Inbound bytes

    /// Feeds bytes read from the connection (any chunking). `now` times ping responses.
    public mutating func receive(_ bytes: ByteBuffer, now: NIODeadline) -> [Action] {
        guard !closed else { return [] }
        decoder.append(bytes)
        while !closed {
            let frame: YamuxFrame?
            do {
                frame = try decoder.next()
            } catch {
                fail(error)
                break
            }
            guard let frame else { break }
            handle(frame, now: now)
        }
        return finish()
    }

    private mutating func handle(_ frame: YamuxFrame, now: NIODeadline) {
        switch frame.type {
        case .data, .windowUpdate:
            handleStreamFrame(frame)
        case .ping:
            if frame.flags == .syn {
                YamuxFrame.writeHeader(type: .ping, flags: .ack, streamID: .session, length: frame.length, into: &outbound)
            } else if let i = pings.firstIndex(where: { $0.value == frame.length }) {
                let ping = pings.remove(at: i)
                actions.append(.pingResponse(value: ping.value, rtt: now - ping.sentAt))
            }  // an unsolicited ping response is ignored
        case .goAway:
            receivedGoAway = true
            actions.append(.goAwayReceived(GoAwayCode(rawValue: frame.length)))
        }
    }

    private mutating func handleStreamFrame(_ frame: YamuxFrame) {
        let id = frame.streamID
        if frame.flags.contains(.syn) {
            guard admitInbound(id) else { return }
        }
        guard let index = streams.index(forKey: id) else {
            if isUnopened(id) { fail(.frameForUnopenedStream("\(frame.type) for \(id)")) }
            return  // a late frame for a stream that is already gone
        }
        if streams.values[index].opening == .synPending {
            // Reserved by openStream but its SYN is not sent yet: the peer cannot know this id.
            fail(.frameForUnopenedStream("\(frame.type) for \(id) before our SYN"))
            return
        }
        var stream = YamuxStream.placeholder
        swap(&stream, &streams.values[index])
        let keep = apply(frame, to: &stream, id: id)
        if closed { return }  // streams are dropped in finish()
        swap(&stream, &streams.values[index])
        if !keep { removeStream(at: index) }
    }

    /// Applies a Data or WindowUpdate frame; false when the stream must be removed.
    private mutating func apply(_ frame: YamuxFrame, to s: inout YamuxStream, id: StreamID) -> Bool {
        if frame.flags.contains(.ack), s.opening == .synSent || s.opening == .synPending {
            s.opening = .established
            outboundUnacked -= 1
        }
        if frame.type == .windowUpdate {
            let (sum, overflow) = s.sendWindow.addingReportingOverflow(frame.length)
            if overflow {
                fail(.windowOverflow("\(id): \(s.sendWindow) + \(frame.length)"))
                return false
            }
            s.sendWindow = sum
        } else if frame.length > 0 {
            if s.remoteFin {
                fail(.dataAfterFin("\(id)"))
                return false
            }
            if frame.length > s.receiveWindow {
                fail(.windowExceeded("\(id): \(frame.length) bytes, window \(s.receiveWindow)"))
                return false
            }
            s.receiveWindow -= frame.length
            s.unconsumed += Int(frame.length)
            actions.append(.streamData(id, frame.payload))
        }
        if frame.flags.contains(.rst) {
            actions.append(.streamReset(id))
            return false
        }
        if frame.flags.contains(.fin), !s.remoteFin {
            s.remoteFin = true
            actions.append(.streamRemoteClosed(id))
        }
        if frame.type == .windowUpdate, s.queuedBytes > 0 || s.localEnd == .finPending {
            pump(&s, id)
        }
        return !s.isFullyClosed
    }

    /// Validates an inbound SYN; true when a new stream was created for it.
    private mutating func admitInbound(_ id: StreamID) -> Bool {
        if isOurs(id) {
            fail(.streamIDParity("SYN for \(id) uses our parity"))
            return false
        }
        if streams[id] != nil {
            fail(.streamIDReuse("\(id) is live"))
            return false
        }
        if id.rawValue <= lastInboundID {
            fail(.streamIDNotIncreasing("\(id) after \(lastInboundID)"))
            return false
        }
        lastInboundID = id.rawValue
        if sentGoAway || streams.count >= configuration.maxConcurrentStreams
            || inboundBacklog >= configuration.maxUnacknowledgedStreams
        {
            YamuxFrame.writeHeader(type: .windowUpdate, flags: .rst, streamID: id, length: 0, into: &outbound)
            return false
        }
        streams[id] = YamuxStream(opening: .synReceived)
        inboundBacklog += 1
        actions.append(.streamOpened(id))
        return true
    }

    private func isOurs(_ id: StreamID) -> Bool { (id.rawValue & 1 == 1) == (role == .dialer) }

    /// True for an id the peer cannot legitimately know about yet.
    private func isUnopened(_ id: StreamID) -> Bool {
        if isOurs(id) { return !outboundIDsExhausted && id.rawValue >= nextOutboundID }
        return id.rawValue > lastInboundID
    }

    // MARK: Local stream operations

    /// Reserves the next stream id. Its SYN goes out with the first frame written on it, or as a
    /// WindowUpdate at the end of the next call that returns actions (e.g. `flush`).
    public mutating func openStream() throws(MuxError) -> StreamID {
        guard !closed else { throw .sessionClosed() }
        if receivedGoAway { throw .goAwayReceived() }
        if sentGoAway { throw .goAwaySent() }
        if streams.count >= configuration.maxConcurrentStreams {
            throw .tooManyStreams("\(streams.count) live")
        }
        if outboundUnacked >= configuration.maxUnacknowledgedStreams { throw .tooManyUnacknowledgedStreams() }
        if outboundIDsExhausted { throw .streamIDsExhausted() }
        let id = StreamID(nextOutboundID)
        if nextOutboundID > UInt32.max - 2 { outboundIDsExhausted = true } else { nextOutboundID += 2 }
        streams[id] = YamuxStream(opening: .synPending)
        outboundUnacked += 1
        pendingSyns.append(id)
        return id
    }

    /// Accepts an inbound stream: sends its ACK (with any window beyond 256 KiB).
    public mutating func accept(stream id: StreamID) throws(MuxError) -> [Action] {
        try withLiveStream(id) { session, s in
            if s.opening == .synReceived {
                session.markAccepted(&s)
                let flags = session.takeOpening(&s, id)
                if !flags.isEmpty {
                    YamuxFrame.writeHeader(type: .windowUpdate, flags: flags, streamID: id, length: 0, into: &session.outbound)
                }
            }
        }
    }

    /// Queues `data` on the stream and sends as much as the peer's window allows; the rest goes
    /// out as WindowUpdates arrive (then `.streamWritable`). Accepts an inbound stream.
    public mutating func write(stream id: StreamID, data: ByteBuffer) throws(MuxError) -> [Action] {
        guard !closed else { throw .sessionClosed() }
        guard let end = streams[id]?.localEnd else { throw .unknownStream(id) }
        guard end == .open else { throw .streamNotWritable(id) }
        let n = data.readableBytes
        if n > 0, totalQueuedBytes + n > configuration.maxQueuedBytes {
            // The peer keeps us writing but grants no window: close rather than grow.
            fail(.sendQueueFull("\(totalQueuedBytes) + \(n) bytes queued > \(configuration.maxQueuedBytes)"))
            return finish()
        }
        return try withLiveStream(id) { session, s in
            if s.opening == .synReceived { session.markAccepted(&s) }
            if n > 0 {
                s.sendQueue.append(data)
                s.queuedBytes += n
                session.totalQueuedBytes += n
            }
            session.pump(&s, id)
            if s.queuedBytes > 0 { s.writerBlocked = true }
        }
    }

    /// Half-closes our direction: FIN after all queued data. Idempotent. Accepts an inbound stream.
    public mutating func close(stream id: StreamID) throws(MuxError) -> [Action] {
        try withLiveStream(id) { session, s in
            guard s.localEnd == .open else { return }
            if s.opening == .synReceived { session.markAccepted(&s) }
            s.localEnd = .finPending
            session.pump(&s, id)
        }
    }

    /// Aborts the stream (RST) and frees it at once. Unknown ids are ignored.
    public mutating func reset(stream id: StreamID) -> [Action] {
        guard !closed, let index = streams.index(forKey: id) else { return [] }
        if streams.values[index].opening != .synPending {
            YamuxFrame.writeHeader(type: .windowUpdate, flags: .rst, streamID: id, length: 0, into: &outbound)
        }
        removeStream(at: index)
        return finish()
    }

    /// The application has read `bytes` of this stream's data. Once half the receive window is
    /// consumed a WindowUpdate returns it to the peer; a reader that does not consume stalls the
    /// writer. Counts above what was delivered are clamped. Unknown ids are ignored.
    public mutating func consumed(stream id: StreamID, bytes: Int) -> [Action] {
        guard !closed, bytes > 0, let index = streams.index(forKey: id) else { return [] }
        let n = min(bytes, streams.values[index].unconsumed)
        streams.values[index].unconsumed -= n
        streams.values[index].pendingCredit += UInt32(n)
        let s = streams.values[index]
        guard !s.remoteFin, s.opening != .synReceived, s.pendingCredit >= configuration.receiveWindow / 2 else {
            return finish()
        }
        var stream = YamuxStream.placeholder
        swap(&stream, &streams.values[index])
        let flags = takeOpening(&stream, id)
        let delta = stream.pendingCredit
        stream.pendingCredit = 0
        stream.receiveWindow += delta
        YamuxFrame.writeHeader(type: .windowUpdate, flags: flags, streamID: id, length: delta, into: &outbound)
        swap(&stream, &streams.values[index])
        return finish()
    }

    /// Writes pending SYNs and returns whatever is buffered.
    public mutating func flush() -> [Action] {
        guard !closed else { return [] }
        return finish()
    }

    // MARK: Session operations

    /// Sends a ping with an opaque value; its answer yields `.pingResponse(value:rtt:)`.
    public mutating func ping(value: UInt32, now: NIODeadline) -> [Action] {
        guard !closed else { return [] }
        YamuxFrame.writeHeader(type: .ping, flags: .syn, streamID: .session, length: value, into: &outbound)
        pings.append(PendingPing(value: value, sentAt: now))
        return finish()
    }

    /// Sends GoAway once. `.normal` drains: no new streams either way, existing ones finish.
    /// Any other code also closes the session (`.closeConnection(nil)`).
    public mutating func goAway(code: GoAwayCode) -> [Action] {
        guard !closed else { return [] }
        if !sentGoAway {
            sentGoAway = true
            YamuxFrame.writeHeader(type: .goAway, flags: [], streamID: .session, length: code.rawValue, into: &outbound)
        }
        if code != .normal { closed = true }
        return finish()
    }

    /// Drives keepalive: a ping every `keepaliveInterval` (the first tick starts the interval)
    /// and closes the session when any ping stays unanswered for `pingTimeout`.
    public mutating func onTimerTick(now: NIODeadline) -> [Action] {
        guard !closed else { return [] }
        if let oldest = pings.first, now - oldest.sentAt >= configuration.pingTimeout {
            closed = true
            closeReason = .keepaliveTimeout()
            return finish()
        }
        if let interval = configuration.keepaliveInterval {
            if let last = lastKeepalive {
                if now - last >= interval {
                    lastKeepalive = now
                    keepaliveCounter &+= 1
                    YamuxFrame.writeHeader(type: .ping, flags: .syn, streamID: .session, length: keepaliveCounter, into: &outbound)
                    pings.append(PendingPing(value: keepaliveCounter, sentAt: now))
                }
            } else {
                lastKeepalive = now
            }
        }
        return finish()
    }
}
