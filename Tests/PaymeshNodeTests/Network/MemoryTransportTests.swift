import NIOConcurrencyHelpers
import NIOCore
import PaymeshCrypto
import PaymeshMux
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshTestSupport
import PaymeshTransport
import Testing

/// The in-memory transport keeps the transport's contract (Specs/streams.md): authenticated
/// peers, protocol selection by what the remote offers, bounded streams, cut links.
@Suite struct MemoryTransportTests {
    static let echo = try! StreamProtocolID("/paymesh/test-echo/1")

    static func pair() throws -> (MemoryNetwork, MemoryTransport, MemoryTransport) {
        var random = SplitMix64(seed: 7)
        func key() -> IdentityKey {
            IdentityKey(privateKey: try! .init(rawRepresentation: (0..<4).flatMap { _ in withUnsafeBytes(of: random.next(), Array.init) }))
        }
        let network = MemoryNetwork()
        return (network, try network.transport(identity: key()), try network.transport(identity: key()))
    }

    @Test func connectAuthenticatesThePeerByItsIdentity() async throws {
        try await withTimeout(10) {
            let (network, a, b) = try Self.pair()
            try b.offer(protocols: [Self.echo], features: ["echo/1"])
            let c = try await a.connect(host: MemoryNetwork.host, port: b.port, expecting: b.localPeer)
            #expect(c.peer.address == b.localPeer && c.peer.features == ["echo/1"])
            var inbound = b.inboundConnections.makeAsyncIterator()
            let accepted = try #require(await inbound.next())
            #expect(accepted.peer.address == a.localPeer)
            await #expect { _ = try await a.connect(host: MemoryNetwork.host, port: b.port, expecting: a.localPeer) } throws: {
                ($0 as? TransportError)?.kind == .unexpectedPeer
            }
            await #expect { _ = try await a.connect(host: MemoryNetwork.host, port: a.port, expecting: nil) } throws: {
                ($0 as? TransportError)?.kind == .selfConnection
            }
            await #expect { _ = try await a.connect(host: MemoryNetwork.host, port: 1, expecting: nil) } throws: {
                ($0 as? TransportError)?.kind == .connectionClosed
            }
            #expect(network.dialCount == 4)
        }
    }

    @Test func streamsOfAProtocolTheRemoteDoesNotOfferAreReset() async throws {
        try await withTimeout(10) {
            let (_, a, b) = try Self.pair()
            let c = try await a.connect(host: MemoryNetwork.host, port: b.port, expecting: nil)
            let refused = try await c.openStream(Self.echo)
            await #expect { for try await _ in refused.inbound {} } throws: { ($0 as? TransportError)?.kind == .streamReset }
            await #expect { try await refused.write(ByteBuffer(string: "hello")) } throws: { ($0 as? TransportError)?.kind == .streamReset }
            #expect(b.rejectedStreams == 1)

            // Offered now: the stream reaches the other side, bytes flow both ways, FIN ends it.
            try b.offer(protocols: [Self.echo], features: [])
            var accepted = b.inboundConnections.makeAsyncIterator()
            let server = try #require(await accepted.next())
            let served = try await c.openStream(Self.echo)
            var streams = server.inboundStreams.makeAsyncIterator()
            let other = try #require(await streams.next())
            #expect(other.protocolID == Self.echo)
            try await served.write(ByteBuffer(string: "hello"))
            served.close()
            var got = ""
            for try await chunk in other.inbound { got += String(buffer: chunk) }
            #expect(got == "hello")
            #expect(c.traffic.bytesSent == 5 && server.traffic.bytesReceived == 5)
        }
    }

    /// A writer that outruns its reader waits (`write`) at the window; one that does not wait
    /// (`writeWithoutWaiting`) past the hard limit gets the stream reset with `.queueLimit`.
    @Test func streamsAreBounded() async throws {
        try await withTimeout(20) {
            let (_, a, b) = try Self.pair()
            try b.offer(protocols: [Self.echo], features: [])
            let c = try await a.connect(host: MemoryNetwork.host, port: b.port, expecting: nil)
            var accepted = b.inboundConnections.makeAsyncIterator()
            let server = try #require(await accepted.next())
            let writer = try await c.openStream(Self.echo)
            var streams = server.inboundStreams.makeAsyncIterator()
            let reader = try #require(await streams.next())

            let chunk = ByteBuffer(repeating: 7, count: 64 * 1024)
            let chunks = 40
            let sender = Task {
                for _ in 0..<chunks { try await writer.write(chunk) }
                writer.close()
            }
            var received = 0
            for try await part in reader.inbound {
                received += part.readableBytes
                #expect(writer.unreadOutbound <= MemoryStream.window + chunk.readableBytes)
            }
            try await sender.value
            #expect(received == chunks * chunk.readableBytes)
            #expect(writer.peakUnreadOutbound <= MemoryStream.window + chunk.readableBytes)

            let flood = try await c.openStream(Self.echo)
            let victim = try #require(await streams.next())
            flood.writeWithoutWaiting(Array(repeating: ByteBuffer(repeating: 1, count: 1024 * 1024), count: MemoryStream.hardLimit / (1024 * 1024) + 1))
            await #expect { for try await _ in victim.inbound {} } throws: { ($0 as? TransportError)?.kind == .queueLimit }
        }
    }

    /// A cut link is seen by both peer managers as a typed `down` event.
    @Test func aCutLinkIsReportedAsPeerDown() async throws {
        try await withTestNetwork(2) { net in
            let events = net[0].peers.linkEvents()
            try await net.connect(0, 1)
            var it = events.makeAsyncIterator()
            let up = try #require(await it.next())
            #expect(up.isUp && up.peer == net[1].id)
            #expect(net.disconnect(0, 1) == 1)
            let down = try #require(await it.next())
            #expect(!down.isUp && down.peer == net[1].id)
            #expect(net[0].transport.connectionCount == 0 && net[1].transport.connectionCount == 0)
        }
    }

    /// A static peer whose link is cut is redialled after its backoff in simulated time: one
    /// clock advance past the backoff, and the peer table's tick dials it again.
    @Test func aStaticPeerIsRedialledAfterItsBackoffInSimulatedTime() async throws {
        try await withTestNetwork(2) { net in
            await net[0].peers.addStaticPeer(net[1].endpoint)
            try await net[0].waitUntilConnected(to: net[1])
            try await net[1].waitUntilConnected(to: net[0])
            let dials = net.memory.dialCount
            #expect(net.disconnect(0, 1) == 1)
            let peer = net[1].id
            _ = try await net[0].waitFor("node 0 to see the link down") { await net[0].peers.connection(to: peer) == nil ? true : nil }
            #expect(net.memory.dialCount == dials, "no redial before time moves")
            net.advance(by: BackoffPolicy().maximum + .seconds(1))
            try await net[0].waitUntilConnected(to: net[1])
            #expect(net.memory.dialCount == dials + 1)
        }
    }

    @Test func seedsReplay() async throws {
        let first = try await TestNetwork.create(2, seed: 42)
        let ids = first.nodes.map(\.id)
        await first.shutdown()
        let again = try await TestNetwork.create(2, seed: 42)
        #expect(again.nodes.map(\.id) == ids)
        await again.shutdown()
    }
}
