import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PaymeshCrypto
import PaymeshMux
import PaymeshNoise
import PaymeshTestSupport
import PaymeshTransport
import Testing

/// Issue 7: hostile peers written from Specs/ (raw TCP + the sans-IO Noise and yamux pieces)
/// against a real endpoint on loopback. Each test asserts on a counter, a state or a frame.
@Suite("Transport hostile peers", .serialized)
struct HostileTransportTests {
    /// Reads and decrypts everything the endpoint sends until it closes; returns the yamux frames.
    private func framesUntilClose(_ peer: RawPeer, _ session: inout EstablishedSession) async throws -> [YamuxFrame] {
        var plain = ByteBuffer()
        while let m = try await peer.readFrame() {
            _ = try session.transport.decrypt(ByteBuffer(bytes: m), appendingTo: &plain)
        }
        var decoder = YamuxFrameDecoder()
        decoder.append(plain)
        var frames: [YamuxFrame] = []
        while let f = try? decoder.next() { frames.append(f) }
        return frames
    }

    private func encrypt(_ frames: [YamuxFrame], _ session: inout EstablishedSession) throws -> [UInt8] {
        var plain = ByteBuffer()
        for f in frames { f.encode(into: &plain) }
        var out = ByteBuffer()
        while plain.readableBytes > 0 {
            let chunk = plain.readSlice(length: min(plain.readableBytes, NoiseLimits.maxPlaintextLength))!
            try session.transport.encryptFrame(chunk, appendingTo: &out)
        }
        return Array(out.readableBytesView)
    }

    /// Item 13, mux.md §7: a protocol error is answered with GoAway(1) before the close.
    @Test func aYamuxViolationIsAnsweredWithGoAwayProtocolError() async throws {
        try await withTimeout {
            let server = try makeEndpoint()
            let address = try await server.listen()
            let peer = try await RawPeer(connectingTo: address)
            var (session, _) = try await rawHandshake(peer)
            var frame = ByteBuffer()
            // Version 1 is not yamux v0.
            try session.transport.encryptFrame(ByteBuffer(bytes: [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]), appendingTo: &frame)
            try await peer.send(Array(frame.readableBytesView))
            let frames = try await framesUntilClose(peer, &session)
            #expect(frames.last == .goAway(.protocolError), "got \(frames)")
            await server.shutdown()
        }
    }

    /// Item 5: pings whose replies are never read. The endpoint stops reading from the peer once
    /// its socket is full, so the flood cannot queue more; when the attacker reads again, every
    /// ping is answered.
    @Test func aPingFloodWhoseRepliesAreNotReadPausesReading() async throws {
        try await withTimeout(60) {
            let server = try makeEndpoint()
            let address = try await server.listen()
            let peer = try await RawPeer(connectingTo: address)
            async let accepted = server.inboundConnections.first { _ in true }
            var (session, _) = try await rawHandshake(peer)
            let serverSide = try #require(await accepted)
            // From now on the attacker reads nothing.
            try await peer.channel.setOption(.autoRead, value: false).get()
            // 8 MiB of pings (12 bytes each): far more than socket buffers plus the 1 MiB watermark.
            let pings = 700_000
            let batch = try encrypt((0..<pings).map { YamuxFrame(type: .ping, flags: .syn, streamID: .session, length: UInt32($0)) }, &session)
            peer.channel.writeAndFlush(ByteBuffer(bytes: batch), promise: nil)
            // Event: the endpoint's socket filled up and it held back its next read.
            try await waitUntil { serverSide.backPressure.readsHeld >= 1 }
            #expect(serverSide.backPressure.paused && serverSide.backPressure.pauses >= 1)
            #expect(serverSide.traffic.bytesReceived < UInt64(pings * 12), "everything was read: nothing holds the flood back")
            // Reading again drains it: every ping gets its answer.
            peer.channel.setOption(.autoRead, value: true).whenComplete { _ in }
            peer.channel.read()
            var plain = ByteBuffer(), answered = 0
            var decoder = YamuxFrameDecoder()
            while answered < pings, let m = try await peer.readFrame() {
                _ = try session.transport.decrypt(ByteBuffer(bytes: m), appendingTo: &plain)
                decoder.append(plain)
                plain.clear()
                while let f = try decoder.next() { if f.type == .ping && f.flags == .ack { answered += 1 } }
            }
            #expect(answered == pings)
            #expect(!serverSide.backPressure.paused)
            await peer.close()
            await server.shutdown()
        }
    }

    /// Item 5: every message makes the application write a reply, and the attacker never grants
    /// window. The session's queue stops at its limit: GoAway(internal error), close, typed error.
    @Test func repliesToAPeerThatGrantsNoWindowAreBounded() async throws {
        try await withTimeout(60) {
            let limit = 2 * 1024 * 1024
            let server = try makeEndpoint(mux: MuxConfiguration(maxQueuedBytes: limit))
            let address = try await server.listen()
            // The application: 20 bytes of reply for every byte received (an ERROR per message).
            let app = Task {
                for await connection in server.inboundConnections {
                    for await stream in connection.inboundStreams {
                        Task {
                            do {
                                for try await chunk in stream.inbound {
                                    stream.writeWithoutWaiting([ByteBuffer(repeating: 0xee, count: chunk.readableBytes * 20)])
                                }
                            } catch {}
                        }
                    }
                }
            }
            let peer = try await RawPeer(connectingTo: address)
            var (session, _) = try await rawHandshake(peer)
            async let failure = nextFailure(server)
            // Open stream 1 with the payments protocol header, then 224 KiB of "messages" (within the
            // initial window) whose replies need 4.4 MiB; never a WindowUpdate.
            var frames: [YamuxFrame] = [.windowUpdate(1, flags: .syn, delta: 0)]
            var header = StreamProtocolHeader.encode(.payments)
            frames.append(.data(1, flags: [], payload: header.readSlice(length: header.readableBytes)!))
            let payload = ByteBuffer(repeating: 1, count: 32 * 1024)
            for _ in 0..<7 { frames.append(.data(1, flags: [], payload: payload)) } // within the 256 KiB window
            try await peer.send(try encrypt(frames, &session))
            let error = try #require(await failure)
            #expect(error.kind == .queueLimit, "got \(error)")
            let received = try await framesUntilClose(peer, &session)
            #expect(received.last == .goAway(.internalError))
            app.cancel()
            await server.shutdown()
        }
    }

    /// Item 6: handshake-then-close churn frees every connection object.
    @Test func handshakeThenCloseChurnFreesEveryConnection() async throws {
        try await withTimeout(120) {
            let server = try makeEndpoint()
            let address = try await server.listen()
            let weakRefs = NIOLockedValueBox<[WeakConnection]>([])
            let collector = Task {
                for await connection in server.inboundConnections {
                    weakRefs.withLockedValue { $0.append(WeakConnection(connection)) }
                    try? await connection.closeFuture.get()
                }
            }
            let rounds = 200
            for _ in 0..<rounds {
                let peer = try await RawPeer(connectingTo: address)
                _ = try await rawHandshake(peer)
                await peer.close()
            }
            try await waitUntil { weakRefs.withLockedValue { $0.count } == rounds && server.admissionState.connections == 0 }
            // Let the event loops finish tearing the pipelines down.
            for _ in 0..<3 { for loop in testGroup.makeIterator() { try await loop.submit {}.get() } }
            try await waitUntil { weakRefs.withLockedValue { refs in refs.allSatisfy { $0.connection == nil } } }
            let alive = weakRefs.withLockedValue { refs in refs.count { $0.connection != nil } }
            #expect(alive == 0, "\(alive) of \(rounds) closed connections are still referenced")
            #expect(server.admissionState.pending == 0 && server.admissionState.pendingByAddress.isEmpty)
            collector.cancel()
            await server.shutdown()
        }
    }

    /// Item 3: connections that send one byte and stall. Over the per-address cap the newest is
    /// closed at once; at the global cap the oldest pending handshake makes room, so a legitimate
    /// peer from another address completes its handshake at once however full the slots are.
    @Test func stalledHandshakesAreCappedPerAddressAndGlobally() async throws {
        try await withTimeout(60) {
            let limits = ConnectionAdmission.Limits(maxPendingHandshakes: 24, maxPendingHandshakesPerAddress: 8)
            let server = try PaymeshEndpoint(configuration: .init(identity: .generate(), admission: limits), group: testGroup)
            let address = try await server.listen(host: "127.0.0.1")
            var stalled: [RawPeer] = []
            for i in 0..<60 {
                // Sources 127.0.0.2 … 127.0.0.4: 20 each.
                let peer = try await RawPeer(connectingTo: address, from: "127.0.0.\(2 + i % 3)")
                try? await peer.send([0x00])
                stalled.append(peer)
            }
            try await waitUntil {
                let c = server.admissionState.counters
                return c.admitted + c.refusedPendingFromAddress >= 60
            }
            let state = server.admissionState
            #expect(state.pending == 24, "pending \(state.pending)")
            #expect(state.pendingByAddress.count == 3 && state.pendingByAddress.values.allSatisfy { $0 == 8 })
            #expect(state.counters.refusedPendingFromAddress == 36 && state.counters.evictedPending == 0)
            // A legitimate peer from 127.0.0.5 while the global cap is full: the oldest staller
            // is evicted and the newcomer is served at once.
            let good = try makeEndpoint()
            let c = try await good.connect(to: address)
            _ = try await c.ping()
            #expect(server.admissionState.counters.evictedPending == 1)
            #expect(server.admissionState.pending == 23)
            await c.close()
            for p in stalled { await p.close() }
            try await waitUntil { server.admissionState.connections == 0 }
            await server.shutdown()
        }
    }

    /// Item 3 with many source addresses (each under its own cap): the stallers evict each other,
    /// the pending count never passes the cap, and a legitimate handshake still gets through.
    @Test func stallersFromManyAddressesCannotLockNewcomersOut() async throws {
        try await withTimeout(60) {
            let limits = ConnectionAdmission.Limits(maxPendingHandshakes: 16, maxPendingHandshakesPerAddress: 2)
            let server = try PaymeshEndpoint(configuration: .init(identity: .generate(), admission: limits), group: testGroup)
            let address = try await server.listen(host: "127.0.0.1")
            var stalled: [RawPeer] = []
            for i in 0..<80 {
                let peer = try await RawPeer(connectingTo: address, from: "127.0.1.\(1 + i % 40)")
                try? await peer.send([0x00])
                stalled.append(peer)
            }
            try await waitUntil { server.admissionState.counters.admitted >= 80 }
            #expect(server.admissionState.pending == 16)
            #expect(server.admissionState.counters.evictedPending == 64)
            let c = try await makeEndpoint().connect(to: address)
            _ = try await c.ping()
            await c.close()
            for p in stalled { await p.close() }
            try await waitUntil { server.admissionState.connections == 0 }
            await server.shutdown()
        }
    }

    /// Item 3: at the connection cap the listener stops accepting; it resumes when one closes.
    @Test func theConnectionCapStopsAcceptingUntilOneCloses() async throws {
        try await withTimeout(60) {
            let limits = ConnectionAdmission.Limits(maxConnections: 4)
            let server = try PaymeshEndpoint(configuration: .init(identity: .generate(), admission: limits), group: testGroup)
            let address = try await server.listen()
            var held: [PaymeshConnection] = []
            for _ in 0..<4 { held.append(try await makeEndpoint().connect(to: address)) }
            try await waitUntil { !server.admissionState.accepting }
            #expect(server.admissionState.connections == 4 && server.admissionState.counters.acceptPauses == 1)
            // A fifth waits in the backlog (not accepted, not refused) until one closes.
            let fifth = Task { try await makeEndpoint().connect(to: address) }
            await held[0].close()
            let c = try await fifth.value
            _ = try await c.ping()
            #expect(server.admissionState.counters.refusedConnections == 0)
            await c.close()
            for h in held.dropFirst() { await h.close() }
            await server.shutdown()
        }
    }
}

final class WeakConnection: @unchecked Sendable {
    weak var connection: PaymeshConnection?
    init(_ c: PaymeshConnection) { connection = c }
}

/// Waits for `condition` (checked every 10 ms, generous bound: the machine may be loaded).
func waitUntil(_ seconds: Double = 30, _ condition: @escaping @Sendable () -> Bool) async throws {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while !condition() {
        guard ContinuousClock.now < deadline else { throw TransportError(.invalidState, "condition not met in \(seconds) s") }
        try await Task.sleep(for: .milliseconds(10))
    }
}

