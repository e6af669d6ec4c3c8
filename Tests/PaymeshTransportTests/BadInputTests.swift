import NIOCore
import PaymeshCrypto
import PaymeshMux
import PaymeshNoise
import PaymeshTestSupport
import PaymeshTransport
import Testing

/// Broken peers: each must get its connection closed with a typed error while the endpoint keeps
/// serving well-behaved peers.
@Suite("Transport bad input", .serialized)
struct BadInputTests {
    /// After each bad peer, a good client still connects and pings.
    private func stillServes(_ address: SocketAddress) async throws {
        let good = try makeEndpoint()
        let c = try await good.connect(to: address)
        _ = try await c.ping()
        await c.close()
    }

    private func expectFailure(_ server: PaymeshEndpoint, _ kinds: Set<TransportError.Kind>,
                               sourceLocation: SourceLocation = #_sourceLocation,
                               _ misbehave: @escaping @Sendable (RawPeer) async throws -> Void) async throws {
        let address = try await server.listen()
        let peer = try await RawPeer(connectingTo: address)
        async let failure = nextFailure(server)
        try await misbehave(peer)
        let error = try #require(await failure, sourceLocation: sourceLocation)
        #expect(kinds.contains(error.kind), "got \(error)", sourceLocation: sourceLocation)
        await peer.waitForClose() // the endpoint closed the TCP connection
        try await stillServes(address)
        await server.shutdown()
    }

    @Test func oversizeLengthPrefix() async throws {
        try await withTimeout {
            // 0xFFFF is allowed by the prefix but the first message must be 32 bytes: send 65535.
            try await expectFailure(try makeEndpoint(), [.handshakeFailed]) { peer in
                try await peer.send([0xff, 0xff] + [UInt8](repeating: 7, count: 65_535))
            }
        }
    }

    @Test func zeroLengthPrefix() async throws {
        try await withTimeout {
            try await expectFailure(try makeEndpoint(), [.handshakeFailed]) { peer in
                try await peer.send([0x00, 0x00, 0x01])
            }
        }
    }

    @Test func garbageInsteadOfMessageOne() async throws {
        try await withTimeout {
            // A 31-byte "ephemeral key": truncated message 1.
            try await expectFailure(try makeEndpoint(), [.handshakeFailed]) { peer in
                try await peer.sendFrame([UInt8](repeating: 9, count: 31))
            }
        }
    }

    @Test func truncatedHandshakeThenHangUp() async throws {
        try await withTimeout {
            try await expectFailure(try makeEndpoint(), [.handshakeFailed]) { peer in
                try await peer.send([0x00, 0x20, 1, 2, 3]) // says 32 bytes, sends 3, hangs up
                await peer.close()
            }
        }
    }

    @Test func silentPeerTimesOut() async throws {
        try await withTimeout {
            // 3 s: the same endpoint must then complete an honest handshake (`stillServes`), which
            // took over 1 s on a 2-core machine running the parallel suites (a CI run failed at 1 s).
            try await expectFailure(try makeEndpoint(handshakeTimeout: .seconds(3)), [.handshakeTimeout]) { _ in }
        }
    }

    @Test func bitFlipAfterTheHandshake() async throws {
        try await withTimeout {
            try await expectFailure(try makeEndpoint(), [.transportFailed]) { peer in
                var (session, _) = try await rawHandshake(peer)
                var frame = ByteBuffer()
                // A yamux ping, encrypted, then one ciphertext bit flipped.
                try session.transport.encryptFrame(ByteBuffer(bytes: [0, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0, 7]), appendingTo: &frame)
                var bytes = Array(frame.readableBytesView)
                bytes[5] ^= 0x04
                try await peer.send(bytes)
            }
        }
    }

    @Test func truncatedTransportMessageThenGarbageLength() async throws {
        try await withTimeout {
            try await expectFailure(try makeEndpoint(), [.transportFailed]) { peer in
                _ = try await rawHandshake(peer)
                try await peer.send([0x00, 0x05, 1, 2, 3, 4, 5]) // shorter than a tag: cannot decrypt
            }
        }
    }

    @Test func yamuxViolationAfterTheHandshake() async throws {
        try await withTimeout {
            try await expectFailure(try makeEndpoint(), [.muxProtocolError]) { peer in
                var (session, _) = try await rawHandshake(peer)
                var frame = ByteBuffer()
                // Version 1 is not yamux v0: GoAway(protocol error) and close.
                try session.transport.encryptFrame(ByteBuffer(bytes: [1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0]), appendingTo: &frame)
                try await peer.send(Array(frame.readableBytesView))
            }
        }
    }

    @Test func wrongIdentityProof() async throws {
        try await withTimeout {
            try await expectFailure(try makeEndpoint(), [.handshakeFailed]) { peer in
                // A correct XX handshake whose proof was signed for a different static key.
                let staticKey = X25519.PrivateKey()
                var hs = try HandshakeState(pattern: .xx, role: .initiator, prologue: PaymeshHandshake.prologue,
                                            localStatic: staticKey)
                try await peer.sendFrame(try hs.writeMessage([UInt8]()))
                let m2 = try #require(try await peer.readFrame())
                _ = try hs.readMessage(m2)
                let forged = try IdentityProof.make(identity: .generate(), noiseStatic: X25519.PrivateKey().publicKey, features: [])
                try await peer.sendFrame(try hs.writeMessage(try forged.encoded()))
            }
        }
    }

    @Test func replayedHandshakeMessage() async throws {
        try await withTimeout {
            let server = try makeEndpoint()
            let address = try await server.listen()
            // Record a real client's message 3 ...
            let first = try await RawPeer(connectingTo: address)
            let (_, recordedM3) = try await rawHandshake(first)
            await first.close()
            // ... and replay it in a fresh handshake: the responder's new ephemeral key makes it fail.
            try await expectFailure(server, [.handshakeFailed]) { peer in
                var hs = try HandshakeState(pattern: .xx, role: .initiator, prologue: PaymeshHandshake.prologue,
                                            localStatic: X25519.PrivateKey())
                try await peer.sendFrame(try hs.writeMessage([UInt8]()))
                _ = try await peer.readFrame()
                try await peer.sendFrame(recordedM3)
            }
        }
    }
}
