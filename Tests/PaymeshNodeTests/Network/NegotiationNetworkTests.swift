import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshTestSupport
import Testing

/// Negotiation between two nodes on the in-memory network with the manual clock
/// (Specs/negotiation.md): signed steps over `/paymesh/payments/3`, the agreement durable on both
/// sides, the agreed channel opened, the seller's price for that client.
@Suite("Negotiation over the wire (in-memory network)")
struct NegotiationNetworkTests {
    struct Market {
        let catalog: ServiceCatalog
        let market: ServiceMarket
        let negotiations: NegotiationService
        let task: Task<Void, Never>

        static func start(_ node: TestNode, _ net: TestNetwork) async throws -> Market {
            let catalog = try ServiceCatalog(directory: node.directory, gossip: nil)
            let market = try ServiceMarket(directory: node.directory, key: node.key, catalog: catalog, events: node.events, clock: net.clock)
            let negotiations = await NegotiationService.start(key: node.key, payments: node.payments, peers: node.peers, market: market,
                                                              events: node.events, clock: net.clock,
                                                              random: NodeRandom(SplitMix64(seed: net.seed &+ UInt64(node.index))))
            return Market(catalog: catalog, market: market, negotiations: negotiations, task: Task { await negotiations.run() })
        }

        func stop() async {
            await negotiations.shutdown()
            await task.value
        }
    }

    static let echo = try! SoldService(checking: "echo", upstream: "http://127.0.0.1:9/api", price: 250, unit: .call,
                                       asset: TestNetwork.usdc, description: "echo")

    @Test func agreementOpensTheChannelAndSetsTheClientsPrice() async throws {
        try await withTestNetwork(3) { net in
            try await net.connect(0, 1)
            let buyer = try await Market.start(net[0], net), seller = try await Market.start(net[1], net)
            _ = try await seller.catalog.add(Self.echo)
            try await seller.market.setPolicy(try ServicePolicy(minPrice: 100, maxPrice: 400, minDeposit: 1_000), for: "echo")
            try await net[0].fund(100_000)

            let n = try await buyer.negotiations.propose(.init(peer: net[1].id, service: "echo", price: 120, asset: TestNetwork.usdc,
                                                               deposit: 5_000, latencyP99Millis: 500, errorRateBasisPoints: 100,
                                                               openChannel: true))
            #expect(n.status == .open && n.role == .buyer)
            let negotiations = buyer.negotiations
            let outcome = try await net[0].waitFor("the agreed channel", timeout: 45) { await negotiations.channelOutcomes[n.id] }
            let channel = try outcome.get()
            #expect(await buyer.negotiations.negotiation(n.id)?.status == .accepted)
            let view = try await net[0].waitForChannel(channel, state: .open, timeout: 45)
            #expect(view.snapshot.terms.deposit == 5_000)
            #expect(view.snapshot.terms.payee == net[1].id)

            // Both ends hold the same agreement, with both signatures.
            let mine = try #require(await buyer.market.agreement(n.id))
            let theirs = try #require(await seller.market.agreement(n.id))
            #expect(mine == theirs)
            try mine.verify()
            #expect(mine.offeredBy == net[0].id && mine.acceptedBy == net[1].id)

            // The seller charges this client the agreed price; anyone else the quote.
            let price = await seller.market.price(of: Self.echo, client: net[0].id)
            #expect(price.price == 120 && price.agreement?.terms.negotiationID == n.id)
            #expect(await seller.market.price(of: Self.echo, client: net[2].id).price == 250)

            // Durable: a new market on the seller's directory loads it.
            let reloaded = try ServiceMarket(directory: net[1].directory, key: net[1].key, catalog: seller.catalog, events: net[1].events,
                                             clock: net.clock)
            #expect(await reloaded.agreement(n.id) == theirs)
            await buyer.stop()
            await seller.stop()
        }
    }

    @Test func operatorCountersAndAProposalExpiresOnTheManualClock() async throws {
        try await withTestNetwork(2) { net in
            try await net.connect(0, 1)
            let buyer = try await Market.start(net[0], net), seller = try await Market.start(net[1], net)
            _ = try await seller.catalog.add(Self.echo)
            try await seller.market.setPolicy(try ServicePolicy(minPrice: 100, maxPrice: 400, autoNegotiate: false), for: "echo")
            let negotiations = seller.negotiations, buyers = buyer.negotiations

            // Left to the operator: it counters on the console; the buyer's limit accepts by itself.
            let n = try await buyer.negotiations.propose(.init(peer: net[1].id, service: "echo", price: 90, asset: TestNetwork.usdc,
                                                               deposit: 2_000, timeoutSeconds: 60, limits: BuyerLimits(maxPrice: 150)))
            _ = try await net[1].waitFor("the proposal at the seller", timeout: 45) { await negotiations.negotiation(n.id)?.ourTurn == true ? true : nil }
            _ = try await seller.negotiations.counter(n.id, price: 140)
            _ = try await net[0].waitFor("the buyer's accept", timeout: 45) { await buyers.negotiation(n.id)?.status == .accepted ? true : nil }
            _ = try await net[1].waitFor("the agreement at the seller", timeout: 45) { await negotiations.negotiation(n.id)?.status == .accepted ? true : nil }
            #expect(await seller.market.agreement(n.id)?.terms.price == Amount(140))

            // A second proposal nobody answers expires when the clock passes its timeout.
            let late = try await buyer.negotiations.propose(.init(peer: net[1].id, service: "echo", price: 90, asset: TestNetwork.usdc,
                                                                  deposit: 2_000, timeoutSeconds: 30))
            _ = try await net[1].waitFor("the second proposal at the seller", timeout: 45) { await negotiations.negotiation(late.id) != nil ? true : nil }
            net.advance(by: .seconds(31))
            _ = try await net[0].waitFor("the buyer's expiry", timeout: 45) { await buyers.negotiation(late.id)?.status == .expired ? true : nil }
            _ = try await net[1].waitFor("the seller's expiry", timeout: 45) { await negotiations.negotiation(late.id)?.status == .expired ? true : nil }
            await #expect(throws: NodeError.self) { _ = try await seller.negotiations.counter(late.id, price: 120) }
            await buyer.stop()
            await seller.stop()
        }
    }
}
