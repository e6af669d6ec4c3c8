import NIOCore
import PaymeshMux
import Testing

@Suite struct SessionStreamTests {
    @Test func streamIDParity() throws {
        var pair = MuxPair()
        let d1 = try pair.dialer.openStream(), d2 = try pair.dialer.openStream()
        let l1 = try pair.listener.openStream(), l2 = try pair.listener.openStream()
        #expect([d1, d2, l1, l2] == [1, 3, 2, 4])
    }

    @Test func openWithoutWritingSendsSynOnFlush() throws {
        var pair = MuxPair()
        let id = try pair.dialer.openStream()
        #expect(pair.dialer.state(of: id) == .synSent)
        let frames = try sentFrames(pair.dialer.flush())
        #expect(frames == [.windowUpdate(id, flags: .syn, delta: 0)])
    }

    @Test func synPiggybacksOnFirstDataAndAckComesBack() throws {
        var pair = MuxPair()
        pair.autoAccept = false
        let id = try pair.dialer.openStream()
        let actions = try pair.dialer.write(stream: id, data: ByteBuffer(string: "hi"))
        #expect(try sentFrames(actions) == [.data(id, flags: .syn, payload: ByteBuffer(string: "hi"))])
        pair.on(.dialer) { _ in actions }
        pair.run()
        #expect(pair.events(.listener) == [.streamOpened(id)])
        #expect(pair.listener.state(of: id) == .synReceived)
        #expect(pair.data(.listener, id) == Array("hi".utf8))
        let ack = try pair.on(.listener) { try $0.accept(stream: id) }
        // The 2 bytes the reader already consumed are returned with the ACK.
        #expect(try sentFrames(ack) == [.windowUpdate(id, flags: .ack, delta: 2)])
        pair.run()
        #expect(pair.dialer.state(of: id) == .established)
        #expect(pair.listener.state(of: id) == .established)
    }

    @Test func idsGoOutInIncreasingOrder() throws {
        var pair = MuxPair()
        let a = try pair.dialer.openStream()
        let b = try pair.dialer.openStream()
        // Writing on b first must not put b's SYN before a's.
        let frames = try sentFrames(pair.dialer.write(stream: b, data: ByteBuffer(string: "x")))
        #expect(frames == [.windowUpdate(a, flags: .syn, delta: 0), .data(b, flags: .syn, payload: ByteBuffer(string: "x"))])
    }

    /// Many streams opened both ways, data both ways, FIN from both sides frees every stream.
    @Test(arguments: [nil, 1, 7, 1000] as [Int?])
    func manyConcurrentStreamsBothWays(chunk: Int?) throws {
        var pair = MuxPair()
        pair.chunkSize = chunk
        pair.autoCloseOnRemoteFin = true
        let count = chunk == 1 ? 8 : 100
        let size = chunk == 1 ? 300 : 5_000
        var opened: [(MuxPair.Side, StreamID)] = []
        for i in 0..<count {
            for side in [MuxPair.Side.dialer, .listener] {
                let id = try pair.on(side) { try $0.openStream() }
                try pair.on(side) { try $0.write(stream: id, data: pattern(size, seed: UInt8(i % 200))) }
                try pair.on(side) { try $0.close(stream: id) }
                opened.append((side, id))
            }
        }
        #expect(pair.dialer.streamCount == count && pair.listener.streamCount == count)
        pair.run()
        for (side, id) in opened {
            let seed = UInt8((Int(id.rawValue - 1) / 2) % 200)
            #expect(pair.data(side.other, id) == Array(pattern(size, seed: seed).readableBytesView))
        }
        #expect(pair.dialer.streamCount == 0)
        #expect(pair.listener.streamCount == 0)
        for side in [MuxPair.Side.dialer, .listener] {
            let closed = pair.events(side).filter { if case .streamClosed = $0 { true } else { false } }
            #expect(closed.count == 2 * count)
        }
    }

    @Test func halfCloseKeepsOtherDirectionOpen() throws {
        var pair = MuxPair()
        let id = try pair.dialer.openStream()
        try pair.on(.dialer) { try $0.write(stream: id, data: ByteBuffer(string: "hello")) }
        try pair.on(.dialer) { try $0.close(stream: id) }
        pair.run()
        #expect(pair.data(.listener, id) == Array("hello".utf8))
        #expect(pair.events(.listener) == [.streamOpened(id), .streamRemoteClosed(id)])
        #expect(pair.dialer.state(of: id) == .localClose)
        #expect(pair.listener.state(of: id) == .remoteClose)
        #expect(throws: MuxError.streamNotWritable(id)) { try pair.dialer.write(stream: id, data: ByteBuffer(string: "x")) }

        try pair.on(.listener) { try $0.write(stream: id, data: ByteBuffer(string: "world")) }
        pair.run()
        #expect(pair.data(.dialer, id) == Array("world".utf8))
        #expect(pair.dialer.streamCount == 1)
        try pair.on(.listener) { try $0.close(stream: id) }
        #expect(pair.listener.streamCount == 0)
        pair.run()
        #expect(pair.events(.dialer) == [.streamRemoteClosed(id), .streamClosed(id)])
        #expect(pair.events(.listener).last == .streamClosed(id))
        #expect(pair.dialer.streamCount == 0)
    }

    @Test func resetFreesBothSides() throws {
        var pair = MuxPair()
        let id = try pair.dialer.openStream()
        try pair.on(.dialer) { try $0.write(stream: id, data: ByteBuffer(string: "abc")) }
        pair.run()
        #expect(pair.listener.streamCount == 1)
        pair.on(.listener) { $0.reset(stream: id) }
        #expect(pair.listener.streamCount == 0)
        #expect(pair.events(.listener) == [.streamOpened(id), .streamClosed(id)])
        pair.run()
        #expect(pair.events(.dialer) == [.streamReset(id), .streamClosed(id)])
        #expect(pair.dialer.streamCount == 0)
        #expect(throws: MuxError.unknownStream(id)) { try pair.dialer.write(stream: id, data: ByteBuffer(string: "x")) }
        // Frames still in flight for the reset stream are ignored, not a protocol error.
        let late = pair.listener.receive(encoded(.data(id, payload: ByteBuffer(string: "late"))), now: t0)
        #expect(late.isEmpty)
        #expect(!pair.listener.isClosed)
    }

    @Test func resetOfUnsentStreamSendsNothing() throws {
        var session = YamuxSession(role: .dialer)
        let id = try session.openStream()
        #expect(session.reset(stream: id) == [.streamClosed(id)])
        #expect(session.flush().isEmpty)
        #expect(session.streamCount == 0)
    }

    @Test func rejectingAnInboundStreamIsSeenAsReset() throws {
        var pair = MuxPair()
        pair.autoAccept = false
        let id = try pair.dialer.openStream()
        try pair.on(.dialer) { try $0.write(stream: id, data: ByteBuffer(string: "req")) }
        pair.run()
        pair.on(.listener) { $0.reset(stream: id) }
        pair.run()
        #expect(pair.events(.dialer) == [.streamReset(id), .streamClosed(id)])
        // The backlog slot was freed: the dialer may open again.
        #expect(pair.listener.streamCount == 0)
    }
}
