import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PaymeshCrypto
import PaymeshMux
import PaymeshNode
import PaymeshTestSupport
import PaymeshTransport
import Testing

/// The peers layer's protocol router (issue 8): services register stream protocols; what the node
/// offers is derived from the registrations; other protocols are reset.
@Suite struct ProtocolRouterTests {
    static let echo = try! StreamProtocolID("/paymesh/test-echo/1")
    static let other = try! StreamProtocolID("/paymesh/test-other/1")

    @Test func registrationsDeriveTheOffer() throws {
        let offers = NIOLockedValueBox<[(Set<StreamProtocolID>, [String])]>([])
        let router = ProtocolRouter { protocols, features in offers.withLockedValue { $0.append((protocols, features)) } }
        #expect(router.protocols.isEmpty && router.features.isEmpty)
        try router.register(Self.echo, feature: "echo/1") { stream, _ in stream.close() }
        try router.register(Self.other) { stream, _ in stream.close() }
        #expect(router.protocols == [Self.echo, Self.other])
        #expect(router.features == ["echo/1"])
        let unknown = try StreamProtocolID("/x/1")
        #expect(router.handler(for: Self.echo) != nil && router.handler(for: unknown) == nil)
        let seen = offers.withLockedValue { $0 }
        #expect(seen.map(\.0) == [[Self.echo], [Self.echo, Self.other]])
        #expect(seen.map(\.1) == [["echo/1"], ["echo/1"]])
    }

    @Test func registeringTwiceIsAnError() throws {
        let router = ProtocolRouter()
        try router.register(Self.echo, feature: "echo/1") { stream, _ in stream.close() }
        #expect(throws: NodeError.protocolAlreadyRegistered(Self.echo.description)) {
            try router.register(Self.echo, feature: "echo/2") { stream, _ in stream.reset() }
        }
        #expect(router.features == ["echo/1"], "the failed registration changed nothing")
    }

    @Test func anOfferTheTransportRefusesIsNotRegistered() throws {
        let router = ProtocolRouter { _, features in
            if features.contains(where: { $0.utf8.count > 64 }) { throw NodeError.invalidParams("feature too long") }
        }
        #expect(throws: NodeError.self) {
            try router.register(Self.echo, feature: String(repeating: "f", count: 65)) { stream, _ in stream.close() }
        }
        #expect(router.protocols.isEmpty)
    }

    /// A real node: its identity proof advertises the payments and gossip features (derived from
    /// their registrations); a stream of a protocol nobody registered is reset; once a service registers
    /// that protocol on the running node, the same kind of stream is accepted and served.
    @Test func aNodeOffersWhatIsRegistered() async throws {
        try await withTimeout(60) {
            let node = try await RunningNode.start()
            let endpoint = try PaymeshEndpoint(configuration: .init(identity: .generate()), group: MultiThreadedEventLoopGroup.singleton)
            let c = try await endpoint.connect(host: node.started.listen.host, port: node.started.listen.port, expecting: node.started.id)
            #expect(c.peer.features == [GossipProtocol.feature, PaymentsProtocol.feature, PaymentsProtocol.featureV2, PaymentsProtocol.featureV3])
            #expect(node.started.peers.router.protocols == [PaymentsProtocol.id, PaymentsProtocol.idV2, PaymentsProtocol.idV3, GossipProtocol.id])

            let refused = try await c.openStream(Self.echo)
            do { try await refused.write(ByteBuffer(string: "hello")) } catch {
                #expect((error as? TransportError)?.kind == .streamReset, "write failed with \(error)")
            }
            await #expect { for try await _ in refused.inbound {} } throws: { ($0 as? TransportError)?.kind == .streamReset }

            // Register an echo service on the running node: the endpoint now accepts the protocol.
            try node.started.peers.router.register(Self.echo) { stream, _ in
                Task {
                    for try await chunk in stream.inbound { try await stream.write(chunk) }
                    stream.close()
                }
            }
            #expect(node.started.peers.router.protocols == [PaymentsProtocol.id, PaymentsProtocol.idV2, PaymentsProtocol.idV3, GossipProtocol.id, Self.echo])
            let served = try await c.openStream(Self.echo)
            try await served.write(ByteBuffer(string: "hello"))
            served.close()
            var back = ""
            for try await chunk in served.inbound { back += String(buffer: chunk) }
            #expect(back == "hello")
            await c.close()
            await endpoint.shutdown()
            await node.stop()
        }
    }
}
