import NIOCore
import PaymeshMux
import Testing

@Suite struct LimitsTests {
    static func syn(_ id: UInt32) -> YamuxFrame { .windowUpdate(StreamID(id), flags: .syn, delta: 0) }

    @Test func inboundBacklogOver256IsReset() throws {
        var listener = YamuxSession(role: .listener)
        var bytes = ByteBuffer()
        for i in 0..<300 { Self.syn(UInt32(2 * i + 1)).encode(into: &bytes) }
        let actions = listener.receive(bytes, now: t0)
        let opened = actions.filter { if case .streamOpened = $0 { true } else { false } }
        #expect(opened.count == 256)
        let resets = try sentFrames(actions)
        #expect(resets == (256..<300).map { .windowUpdate(StreamID(UInt32(2 * $0 + 1)), flags: .rst, delta: 0) })
        #expect(listener.streamCount == 256)
        // Accepting one frees a backlog slot.
        _ = try listener.accept(stream: 1)
        let next = listener.receive(encoded(Self.syn(601)), now: t0)
        #expect(next == [.streamOpened(601)])
        #expect(try sentFrames(listener.receive(encoded(Self.syn(603)), now: t0)) == [.windowUpdate(603, flags: .rst, delta: 0)])
        // Late frames for the rejected ids are ignored.
        #expect(listener.receive(encoded(.data(599, flags: .fin, payload: ByteBuffer())), now: t0).isEmpty)
        #expect(!listener.isClosed)
    }

    @Test func outboundUnacknowledgedStreamsAreCapped() throws {
        var pair = MuxPair()
        pair.autoAccept = false
        for _ in 0..<256 { _ = try pair.dialer.openStream() }
        #expect(throws: MuxError.tooManyUnacknowledgedStreams()) { try pair.dialer.openStream() }
        pair.on(.dialer) { $0.flush() }
        pair.run()
        _ = try pair.on(.listener) { try $0.accept(stream: 1) }
        pair.run()
        #expect(try pair.dialer.openStream() == 513)
    }

    @Test func maxConcurrentStreams() throws {
        var pair = MuxPair(listener: MuxConfiguration(maxConcurrentStreams: 4))
        var ids: [StreamID] = []
        for _ in 0..<5 {
            let id = try pair.dialer.openStream()
            try pair.on(.dialer) { try $0.write(stream: id, data: ByteBuffer(string: "x")) }
            ids.append(id)
        }
        pair.run()
        #expect(pair.listener.streamCount == 4)
        #expect(pair.events(.dialer) == [.streamReset(ids[4]), .streamClosed(ids[4])])
        #expect(pair.dialer.streamCount == 4)
        // Locally, opening beyond the limit throws.
        var small = YamuxSession(role: .dialer, configuration: MuxConfiguration(maxConcurrentStreams: 2))
        _ = try small.openStream()
        _ = try small.openStream()
        #expect(throws: MuxError.tooManyStreams()) { try small.openStream() }
    }

    static let violations: [(String, [YamuxFrame])] = [
        ("streamIDParity", [syn(2)]),
        ("streamIDReuse", [syn(3), syn(3)]),
        ("streamIDNotIncreasing", [syn(5), syn(3)]),
        ("frameForUnopenedStream", [.data(7, payload: ByteBuffer(string: "x"))]),
        ("frameForUnopenedStream", [.windowUpdate(2, delta: 10)]),
        ("dataAfterFin", [syn(1), .data(1, flags: .fin, payload: ByteBuffer()), .data(1, payload: ByteBuffer(string: "x"))]),
        ("badVersion", [syn(1)]),
    ]

    @Test(arguments: 0..<violations.count)
    func protocolViolationsSendGoAwayAndClose(index: Int) throws {
        let (name, frames) = Self.violations[index]
        var listener = YamuxSession(role: .listener)
        var bytes = ByteBuffer()
        for f in frames { f.encode(into: &bytes) }
        if name == "badVersion" { bytes.setInteger(UInt8(1), at: 0) }
        let actions = listener.receive(bytes, now: t0)
        #expect(try sentFrames(actions).last == .goAway(.protocolError))
        guard case .closeConnection(let error)? = actions.last else {
            Issue.record("no closeConnection in \(actions)")
            return
        }
        #expect(error?.name == name)
        #expect(listener.isClosed && listener.streamCount == 0)
        #expect(throws: MuxError.sessionClosed()) { try listener.openStream() }
    }

    @Test func goAwayStopsNewStreamsButExistingOnesFinish() throws {
        var pair = MuxPair()
        let id = try pair.dialer.openStream()
        try pair.on(.dialer) { try $0.write(stream: id, data: ByteBuffer(string: "one")) }
        pair.run()
        pair.on(.listener) { $0.goAway(code: .normal) }
        pair.run()
        #expect(pair.events(.dialer) == [.goAwayReceived(.normal)])
        #expect(pair.dialer.peerSentGoAway)
        #expect(throws: MuxError.goAwayReceived()) { try pair.dialer.openStream() }
        #expect(throws: MuxError.goAwaySent()) { try pair.listener.openStream() }
        // The existing stream still works both ways.
        try pair.on(.dialer) { try $0.write(stream: id, data: ByteBuffer(string: "two")) }
        try pair.on(.listener) { try $0.write(stream: id, data: ByteBuffer(string: "back")) }
        pair.run()
        #expect(pair.data(.listener, id) == Array("onetwo".utf8))
        #expect(pair.data(.dialer, id) == Array("back".utf8))
        // A SYN arriving after our GoAway is refused with RST.
        let late = pair.listener.receive(encoded(Self.syn(99)), now: t0)
        #expect(try sentFrames(late) == [.windowUpdate(99, flags: .rst, delta: 0)])
    }

    @Test func nonNormalGoAwayCloses() throws {
        var session = YamuxSession(role: .dialer)
        let actions = session.goAway(code: .internalError)
        #expect(try sentFrames(actions) == [.goAway(.internalError)])
        #expect(actions.last == .closeConnection(nil))
        #expect(session.isClosed)
    }
}

/// Issue 7 item 5: a peer that keeps us writing but never grants window cannot grow our queue.
@Suite struct QueueLimitTests {
    @Test func writesPastTheSessionQueueLimitCloseWithGoAwayInternalError() throws {
        var listener = YamuxSession(role: .listener, configuration: MuxConfiguration(maxQueuedBytes: 1024 * 1024))
        #expect(listener.receive(encoded(.windowUpdate(1, flags: .syn, delta: 0)), now: t0) == [.streamOpened(1)])
        _ = try listener.accept(stream: 1)
        // The initial 256 KiB window goes out; the peer never returns it. Then 1 MiB may queue.
        let chunk = ByteBuffer(repeating: 7, count: 64 * 1024)
        var closed: [YamuxSession.Action] = []
        for i in 0..<100 {
            let actions = try listener.write(stream: 1, data: chunk)
            if actions.contains(where: { if case .closeConnection = $0 { true } else { false } }) {
                closed = actions
                #expect(i == 4 + 16, "closed after \(i + 1) writes")
                break
            }
            #expect(listener.queuedBytes <= 1024 * 1024)
        }
        #expect(closed.last == .closeConnection(.sendQueueFull()))
        #expect(try sentFrames(closed).last == .goAway(.internalError))
        #expect(listener.isClosed && listener.queuedBytes == 0)
    }

    @Test func queuedBytesShrinkAsWindowArrives() throws {
        var listener = YamuxSession(role: .listener, configuration: MuxConfiguration(maxQueuedBytes: 1024 * 1024))
        _ = listener.receive(encoded(.windowUpdate(1, flags: .syn, delta: 0)), now: t0)
        _ = try listener.accept(stream: 1)
        _ = try listener.write(stream: 1, data: ByteBuffer(repeating: 1, count: 256 * 1024 + 1000))
        #expect(listener.queuedBytes == 1000)
        _ = listener.receive(encoded(.windowUpdate(1, flags: [], delta: 600)), now: t0)
        #expect(listener.queuedBytes == 400)
        _ = listener.reset(stream: 1)
        #expect(listener.queuedBytes == 0)
    }
}
