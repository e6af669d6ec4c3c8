import NIOCore
import PaymeshCrypto
import PaymeshMessages
import PaymeshMux
import PaymeshNoise
import PaymeshTestSupport
import PaymeshTransport
import Testing

/// Real endpoints on loopback TCP: handshake, streams, messages, flow control, bad input.
@Suite("Transport over loopback TCP", .serialized)
struct LoopbackTransportTests {
    @Test func handshakeAuthenticatesBothEnds() async throws {
        try await withTimeout {
            let serverKey = IdentityKey.generate(), clientKey = IdentityKey.generate()
            let server = try makeEndpoint(identity: serverKey), client = try makeEndpoint(identity: clientKey)
            let address = try await server.listen()
            async let inbound = server.inboundConnections.first { _ in true }
            let c = try await client.connect(to: address, expecting: serverKey.address)
            let s = try #require(await inbound)
            #expect(c.peer.address == serverKey.address)
            #expect(s.peer.address == clientKey.address)
            #expect(c.peer.noiseStaticKey == server.noiseStaticPublicKey)
            #expect(s.peer.noiseStaticKey == client.noiseStaticPublicKey)
            #expect(c.peer.features == ["payments/1"])
            let rtt = try await c.ping()
            #expect(rtt > .zero)
            await c.close()
            try await s.closeFuture.get() // GoAway + close is a clean close for the other end too
            await server.shutdown()
        }
    }

    @Test func dialingTheWrongIdentityFails() async throws {
        try await withTimeout {
            let server = try makeEndpoint(), client = try makeEndpoint()
            let address = try await server.listen()
            await #expect { try await client.connect(to: address, expecting: IdentityKey.generate().address) } throws: {
                ($0 as? TransportError)?.kind == .unexpectedPeer
            }
            await server.shutdown()
        }
    }

    @Test func aNodeNeverConnectsToItself() async throws {
        try await withTimeout {
            let key = IdentityKey.generate()
            let server = try makeEndpoint(identity: key), client = try makeEndpoint(identity: key)
            let address = try await server.listen()
            await #expect { try await client.connect(to: address) } throws: { ($0 as? TransportError)?.kind == .selfConnection }
            await server.shutdown()
        }
    }

    @Test func manyConcurrentStreamsEchoIntact() async throws {
        try await withTimeout(60) {
            let server = try makeEndpoint(), client = try makeEndpoint()
            let address = try await server.listen()
            let echo = serveEcho(server)
            let c = try await client.connect(to: address)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<200 {
                    group.addTask {
                        let stream = try await c.openStream(.payments)
                        let payload = (0..<(1000 + i * 37)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
                        try await stream.write(ByteBuffer(bytes: payload))
                        stream.close()
                        let back = try await readAll(stream)
                        #expect(back == payload, "stream \(i)")
                    }
                }
                try await group.waitForAll()
            }
            await c.close()
            echo.cancel()
            await server.shutdown()
        }
    }

    @Test func allThirteenMessageTypesBothWays() async throws {
        try await withTimeout {
            let examples = try allMessageExamples()
            #expect(examples.count == 13)
            let pair = try await ConnectedPair.make()
            let (c, s) = (pair.clientSide, pair.serverSide)
            let codec = PaymentStreamCodec()
            var out = ByteBuffer()
            for m in examples { try codec.write(m, into: &out) }

            // Client → server on a client-opened stream; server → client on a server-opened one.
            let up = try await c.openStream(.payments)
            async let upStream = s.inboundStreams.first { _ in true }
            try await up.write(out)
            up.close()
            let atServer = try #require(await upStream)
            #expect(atServer.protocolID == .payments)
            #expect(try decodeAll(try await readAll(atServer)) == examples)

            let down = try await s.openStream(.payments)
            async let downStream = c.inboundStreams.first { _ in true }
            try await down.write(out)
            down.close()
            let atClient = try #require(await downStream)
            #expect(try decodeAll(try await readAll(atClient)) == examples)
            await pair.tearDown()
        }
    }

    @Test func unknownStreamProtocolIsReset() async throws {
        try await withTimeout {
            let pair = try await ConnectedPair.make()
            let c = pair.clientSide
            let stream = try await c.openStream(try StreamProtocolID("/paymesh/unknown/9"))
            // The peer's RST may arrive before or after this write: either way the reason is a reset.
            do { try await stream.write(ByteBuffer(bytes: [1, 2, 3])) } catch {
                #expect((error as? TransportError)?.kind == .streamReset, "write failed with \(error)")
            }
            await #expect { _ = try await readAll(stream) } throws: { ($0 as? TransportError)?.kind == .streamReset }
            try await c.ping() // the connection itself is fine
            await pair.tearDown()
        }
    }

    /// A reader that does not read stops the writer after one window; reading resumes it and
    /// every byte arrives in order.
    @Test func flowControlWithASlowReader() async throws {
        try await withTimeout(60) {
            let pair = try await ConnectedPair.make()
            let (c, s) = (pair.clientSide, pair.serverSide)
            let stream = try await c.openStream(.payments)
            let total = 4 * 1024 * 1024, chunk = 64 * 1024
            let progress = Counter()
            let writer = Task {
                for i in 0..<(total / chunk) {
                    try await stream.write(ByteBuffer(bytes: [UInt8](repeating: UInt8(i & 0xff), count: chunk)))
                    progress.add(chunk)
                }
                stream.close()
            }
            let peer = try #require(await s.inboundStreams.first { _ in true })
            try await Task.sleep(nanoseconds: 500_000_000) // the reader sleeps; the writer must stall
            let stalledAt = progress.value
            // At most the 256 KiB window in flight plus the writer's 256 KiB high watermark.
            #expect(stalledAt <= 256 * 1024 + Int(MuxConfiguration.initialStreamWindow) + chunk, "wrote \(stalledAt) with no reader")
            #expect(stalledAt < total)
            var received = 0, position = 0
            for try await buffer in peer.inbound {
                for byte in buffer.readableBytesView {
                    #expect(byte == UInt8((position / chunk) & 0xff))
                    position += 1
                }
                received += buffer.readableBytes
                if received < 1024 * 1024 { try await Task.sleep(nanoseconds: 2_000_000) } // slow start
            }
            try await writer.value
            #expect(received == total)
            await pair.tearDown()
        }
    }

    /// The peer's FIN ends only its direction: our writer, blocked on the window, still
    /// completes once the peer reads.
    @Test func peerHalfCloseDoesNotFailABlockedWriter() async throws {
        try await withTimeout(60) {
            let pair = try await ConnectedPair.make()
            let (c, s) = (pair.clientSide, pair.serverSide)
            let stream = try await c.openStream(.payments)
            try await stream.write(ByteBuffer(bytes: [1]))
            let peer = try #require(await s.inboundStreams.first { _ in true })
            peer.close() // FIN from the server before it reads anything
            let total = 2 * 1024 * 1024
            let writer = Task {
                for _ in 0..<(total / 65_536) { try await stream.write(ByteBuffer(repeating: 7, count: 65_536)) }
                stream.close()
            }
            #expect(try await readAll(stream).isEmpty) // our inbound ends cleanly at the peer's FIN
            try await Task.sleep(nanoseconds: 200_000_000)
            let received = try await readAll(peer).count
            try await writer.value // must not throw
            #expect(received == total + 1)
            await pair.tearDown()
        }
    }

    private func decodeAll(_ bytes: [UInt8]) throws -> [Message] {
        var codec = PaymentStreamCodec()
        codec.feed(bytes)
        var out: [Message] = []
        while let m = try codec.nextMessage() { out.append(m) }
        return out
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLockish()
    private var n = 0
    func add(_ k: Int) { lock.withLock { n += k } }
    var value: Int { lock.withLock { n } }
}

import NIOConcurrencyHelpers
typealias NSLockish = NIOLock
