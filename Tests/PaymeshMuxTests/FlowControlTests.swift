import NIOCore
import PaymeshMux
import Testing

@Suite struct FlowControlTests {
    static let window = Int(MuxConfiguration.initialStreamWindow)

    /// A 1 MiB writer progresses only as the slow reader consumes; never more than the window
    /// is delivered but unconsumed.
    @Test func slowReaderPushesBack() throws {
        var pair = MuxPair()
        pair.autoConsume = false
        let id = try pair.dialer.openStream()
        let total = 1024 * 1024
        let payload = pattern(total, seed: 3)
        try pair.on(.dialer) { try $0.write(stream: id, data: payload) }
        pair.run()
        #expect(pair.data(.listener, id).count == Self.window)
        #expect(pair.dialer.queuedBytes(of: id) == total - Self.window)
        #expect(pair.dialer.sendWindow(of: id) == 0)

        // Less than half a window consumed: no WindowUpdate, no progress.
        pair.on(.listener) { $0.consumed(stream: id, bytes: Self.window / 2 - 1) }
        pair.run()
        #expect(pair.data(.listener, id).count == Self.window)

        var consumed = Self.window / 2 - 1
        var rounds = 0
        while pair.data(.listener, id).count < total {
            let delivered = pair.data(.listener, id).count
            #expect(delivered - consumed <= Self.window)
            let step = min(40_000, delivered - consumed)
            pair.on(.listener) { $0.consumed(stream: id, bytes: step) }
            consumed += step
            pair.run()
            rounds += 1
            #expect(rounds < 1000)
            if rounds >= 1000 { break }
        }
        #expect(pair.data(.listener, id) == Array(payload.readableBytesView))
        #expect(pair.dialer.queuedBytes(of: id) == 0)
        #expect(pair.events(.dialer).contains(.streamWritable(id)))
        #expect(!pair.dialer.isClosed && !pair.listener.isClosed)
    }

    @Test func finWaitsBehindQueuedData() throws {
        var pair = MuxPair()
        pair.autoConsume = false
        let id = try pair.dialer.openStream()
        try pair.on(.dialer) { try $0.write(stream: id, data: pattern(Self.window + 10, seed: 1)) }
        try pair.on(.dialer) { try $0.close(stream: id) }
        pair.run()
        #expect(!pair.events(.listener).contains(.streamRemoteClosed(id)))
        pair.on(.listener) { $0.consumed(stream: id, bytes: Self.window) }
        pair.run()
        #expect(pair.data(.listener, id).count == Self.window + 10)
        #expect(pair.events(.listener).last == .streamRemoteClosed(id))
    }

    @Test func largerReceiveWindowIsAnnouncedWithSynAndAck() throws {
        let big = MuxConfiguration(receiveWindow: 1024 * 1024)
        var pair = MuxPair(dialer: big, listener: big)
        pair.autoConsume = false
        let id = try pair.dialer.openStream()
        let actions = try pair.dialer.write(stream: id, data: pattern(600_000, seed: 2))
        let frames = try sentFrames(actions)
        #expect(frames.first == .windowUpdate(id, flags: .syn, delta: 768 * 1024))
        #expect(frames.dropFirst().allSatisfy { $0.flags.isEmpty && $0.type == .data })
        pair.on(.dialer) { _ in actions }
        pair.run()
        // The listener's ACK grew the dialer's send window to 1 MiB: everything arrives.
        #expect(pair.data(.listener, id).count == 600_000)
        #expect(pair.listener.receiveWindow(of: id) == UInt32(1024 * 1024 - 600_000))
    }

    @Test func dataBeyondWindowIsProtocolError() throws {
        var listener = YamuxSession(role: .listener)
        let first = listener.receive(encoded(.data(1, flags: .syn, payload: pattern(Self.window, seed: 0))), now: t0)
        #expect(first.count == 2)  // streamOpened + streamData
        let actions = listener.receive(encoded(.data(1, payload: ByteBuffer(string: "x"))), now: t0)
        #expect(try sentFrames(actions) == [.goAway(.protocolError)])
        #expect(closeError(actions) == .some(.windowExceeded()))
        #expect(listener.isClosed && listener.streamCount == 0)
        #expect(listener.receive(encoded(.ping(value: 1, response: false)), now: t0).isEmpty)
    }

    @Test func windowOverflowIsProtocolError() throws {
        var dialer = YamuxSession(role: .dialer)
        let id = try dialer.openStream()
        _ = dialer.flush()
        let actions = dialer.receive(encoded(.windowUpdate(id, flags: .ack, delta: UInt32.max)), now: t0)
        #expect(closeError(actions) == .some(.windowOverflow()))
        #expect(try sentFrames(actions) == [.goAway(.protocolError)])
    }

    @Test func windowMayGrowBeyondInitial() throws {
        var dialer = YamuxSession(role: .dialer)
        let id = try dialer.openStream()
        _ = dialer.flush()
        _ = dialer.receive(encoded(.windowUpdate(id, flags: .ack, delta: 15 * 1024 * 1024)), now: t0)
        let expected: UInt32 = 256 * 1024 + 15 * 1024 * 1024
        #expect(dialer.sendWindow(of: id) == expected)
        let frames = try sentFrames(dialer.write(stream: id, data: pattern(1_000_000, seed: 0)))
        #expect(frames.reduce(0) { $0 + $1.payload.readableBytes } == 1_000_000)
        #expect(frames.allSatisfy { $0.payload.readableBytes <= MuxConfiguration.defaultMaxOutboundDataFrame })
    }
}
