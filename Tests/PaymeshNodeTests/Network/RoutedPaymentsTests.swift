import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshRouting
import PaymeshStore
import PaymeshTestSupport
import Testing

/// Routed payments on the in-memory network with gossip on and the manual clock (issue 10; Specs/
/// routing.md, invoice.md, console.md §12): each node finds its own route over the graph it
/// learned by gossip, pays invoices and nodes over 2 and 3 hops with exact fees, retries over an
/// alternative route, never pays twice for one payment id, refuses an expired invoice, and its
/// reputation steers a later payment away from a node that failed it.
@Suite struct RoutedPaymentsTests {
    /// Every forwarder charges 2 + 1 % of what it forwards, advertises it in gossip and enforces it.
    static let feeBase: UInt128 = 2
    static let feePPM: UInt64 = 10_000

    /// Gossip on; node `i`'s advertised terms and its HTLC policy (`enforced` base when it differs).
    static func configure(advertised: @escaping @Sendable (Int) -> UInt128 = { _ in feeBase },
                          enforced: @escaping @Sendable (Int) -> UInt128? = { _ in nil }) -> @Sendable (Int, inout NodeSetup) -> Void {
        { i, setup in
            var gossip = GossipConfiguration()
            gossip.channelTerms.feeBase = Amount(advertised(i))
            gossip.channelTerms.feePPM = feePPM
            // Re-publish often: announcements sent before subscriptions are exchanged reach nobody.
            gossip.refreshInterval = .seconds(15)
            setup.gossip = gossip
            setup.payments.htlcPolicy = HTLCPolicy(feeBase: enforced(i) ?? advertised(i), feePPM: feePPM)
        }
    }

    /// Connects `links`, opens a channel `payer → payee` of `deposit` on each, and runs gossip
    /// until node 0's graph holds every channel with its payer's update and every node's key.
    static func mesh(_ net: TestNetwork, _ links: [(Int, Int)], deposit: UInt128 = 10_000) async throws -> [ChannelID] {
        for (a, b) in links { try await net.connect(a, b) }
        let degree = Dictionary(links.flatMap { [($0.0, 1), ($0.1, 1)] }, uniquingKeysWith: +)
        try await net.runGossip("meshes formed") {
            for (i, d) in degree { if await net[i].gossip.status().mesh[GossipTopic.channels.name]?.count != d { return false } }
            return true
        }
        var channels: [ChannelID] = []
        for (payer, payee) in links {
            try await net[payer].fund(deposit)
            channels.append(try await net[payer].openChannel(to: net[payee], deposit: deposit))
        }
        let ids = net.nodes.map(\.id), opened = channels
        try await net.runGossip("node 0 knows every channel and node", maxSteps: 60) {
            let (graph, _) = await net[0].gossip.graphSnapshot()
            let updated = zip(opened, links).allSatisfy { id, link in graph.channels[id]?.update(from: ids[link.0]) != nil }
            return updated && ids.dropFirst().allSatisfy { graph.nodes[$0] != nil }
        }
        return channels
    }

    static func routed(_ node: TestNode) throws -> RoutedPayments { try RoutedPayments(payments: node.payments, gossip: node.gossip) }

    /// Waits until both ends of `channel` have settled exactly `paid` with no HTLC left.
    static func expectSettled(_ net: TestNetwork, _ payer: Int, _ payee: Int, _ channel: ChannelID, _ paid: UInt128) async throws {
        _ = try await net[payer].waitFor("\(channel) settled at \(paid) on both ends") {
            let a = await net[payer].payments.htlcChannel(channel), b = await net[payee].payments.htlcChannel(channel)
            return a?.settled == paid && b?.settled == paid && a?.htlcs.isEmpty == true && b?.htlcs.isEmpty == true ? true : nil
        }
    }

    static func succeeded(_ p: PaymentJournal.Payment) -> Bool { if case .succeeded = p.status { true } else { false } }

    @Test func invoicesArePaidOverTwoAndThreeHopsWithExactFees() async throws {
        try await withTestNetwork(4, configure: Self.configure()) { net in
            let c = try await Self.mesh(net, [(0, 1), (1, 2), (2, 3)])
            let payer = try Self.routed(net[0])
            // Two hops: node 1 forwards 1,000 and keeps 2 + 10.
            let two = try await Self.routed(net[2]).createInvoice(amount: Amount(1_000), asset: TestNetwork.usdc, memo: "tea", expiryMillis: nil)
            let p2 = try await payer.pay(invoice: two.invoice)
            #expect(Self.succeeded(p2) && p2.feesPaid == Amount(12) && p2.attempts.count == 1)
            #expect(p2.attempts.first?.route.hops.map(\.nodeID) == [net[1].id, net[2].id])
            try await Self.expectSettled(net, 0, 1, c[0], 1_012)
            try await Self.expectSettled(net, 1, 2, c[1], 1_000)
            // Three hops: node 2 forwards 1,000 for 12, node 1 forwards 1,012 for 2 + 10.
            let three = try await Self.routed(net[3]).createInvoice(amount: Amount(1_000), asset: TestNetwork.usdc, memo: "", expiryMillis: nil)
            let p3 = try await payer.pay(invoice: three.invoice)
            #expect(Self.succeeded(p3) && p3.feesPaid == Amount(24))
            #expect(p3.attempts.first?.route.hops.map(\.fee) == [Amount(12), Amount(12), Amount(0)])
            try await Self.expectSettled(net, 0, 1, c[0], 1_012 + 1_024)
            try await Self.expectSettled(net, 1, 2, c[1], 1_000 + 1_012)
            try await Self.expectSettled(net, 2, 3, c[2], 1_000)
            // The payee recorded the payment durably: it survives a crash of the payee.
            try await net[3].restart(crash: true)
            let stored = try await net[3].payments.invoiceRecords()
            #expect(stored.count == 1 && stored.first?.paid?.amount == Amount(1_000) && stored.first?.paid?.channelID == c[2])
            // Paying the same invoice again is the same payment (its id is the payment hash): nothing more is paid.
            let again = try await payer.pay(invoice: three.invoice)
            #expect(again == p3)
        }
    }

    @Test func payToNodeCarriesThePreimageInTheOnion() async throws {
        try await withTestNetwork(3, configure: Self.configure()) { net in
            let c = try await Self.mesh(net, [(0, 1), (1, 2)])
            let p = try await Self.routed(net[0]).pay(to: net[2].id, amount: Amount(500), asset: TestNetwork.usdc)
            // 2 + 1 % of 500.
            #expect(Self.succeeded(p) && p.feesPaid == Amount(7) && p.amount == Amount(500))
            try await Self.expectSettled(net, 0, 1, c[0], 507)
            try await Self.expectSettled(net, 1, 2, c[1], 500)
            // The payee made no invoice.
            #expect(try await net[2].payments.invoiceRecords().isEmpty)
        }
    }

    @Test func aRetriedCallWithTheSameIDPaysOnce() async throws {
        try await withTestNetwork(3, configure: Self.configure()) { net in
            let c = try await Self.mesh(net, [(0, 1), (1, 2)])
            let id = try PaymentJournal.PaymentID(Array("order-1".utf8))
            let routed = try Self.routed(net[0])
            let first = try await routed.pay(to: net[2].id, amount: Amount(500), asset: TestNetwork.usdc, id: id)
            #expect(Self.succeeded(first))
            let retried = try await routed.pay(to: net[2].id, amount: Amount(500), asset: TestNetwork.usdc, id: id)
            #expect(retried == first)
            // The journal's final state is written after the call is answered (Specs/routing.md §8
            // step 6): once it is durable, the store alone finds the payment.
            let payer = net[0]
            _ = try await payer.waitFor("the journal's final state is durable") { () async -> Bool? in
                guard let fresh = try? Self.routed(payer) else { return nil }
                return await fresh.payment(id) == first ? true : nil
            }
            // The journal is durable: after a crash of the payer the id still finds its payment.
            try await net[0].restart(crash: true)
            try await net.connect(0, 1)
            let afterCrash = try Self.routed(net[0])
            #expect(await afterCrash.payment(id) == first)
            #expect(try await afterCrash.pay(to: net[2].id, amount: Amount(500), asset: TestNetwork.usdc, id: id) == first)
            // The same id for another payment is refused (1420), nothing sent.
            await #expect(throws: NodeError.self) {
                try await afterCrash.pay(to: net[2].id, amount: Amount(501), asset: TestNetwork.usdc, id: id)
            }
            // 2 + 1 % of 500.
            try await Self.expectSettled(net, 0, 1, c[0], 507)
            try await Self.expectSettled(net, 1, 2, c[1], 500)
        }
    }

    @Test func anExpiredInvoiceIsRefusedAndTheFinalHopChecksTheInvoiceTerms() async throws {
        try await withTestNetwork(3, configure: Self.configure()) { net in
            let c = try await Self.mesh(net, [(0, 1), (1, 2)])
            let payer = try Self.routed(net[0]), payee = try Self.routed(net[2])
            let short = try await payee.createInvoice(amount: Amount(100), asset: TestNetwork.usdc, memo: "", expiryMillis: 1_000)
            net.advance(by: .seconds(2))
            do {
                _ = try await payer.pay(invoice: short.invoice)
                Issue.record("an expired invoice was paid")
            } catch let error as NodeError {
                #expect(error.paymeshCode == .invoiceExpired)
            }
            #expect(await payer.paymentList().isEmpty)
            // The final hop refuses an HTLC below the invoice's amount with 1405, and one for an
            // expired invoice alike (routed by hand, so that the payer's own checks do not stop it).
            let invoice = try await payee.createInvoice(amount: Amount(100), asset: TestNetwork.usdc, memo: "", expiryMillis: 60_000)
            let hops = [RouteHop(nodeKey: net[1].key.publicKey, channelID: c[0], feeBase: Self.feeBase, feePPM: Self.feePPM),
                        RouteHop(nodeKey: net[2].key.publicKey, channelID: c[1])]
            let low = try await net[0].payments.payRoute(hops, amount: 99, paymentHash: invoice.paymentHash, preimage: nil)
            guard case .failed(_, let hop, _, let code) = low else { Issue.record("underpaid invoice: \(low)"); return }
            #expect(hop == 1 && code == .unknownPaymentHash)
            let late = try await net[0].payments.payRoute(hops, amount: 100, paymentHash: short.paymentHash, preimage: nil)
            guard case .failed(_, 1, _, .unknownPaymentHash) = late else { Issue.record("expired invoice: \(late)"); return }
            // Still open and paid in full, it succeeds once.
            let ok = try await net[0].payments.payRoute(hops, amount: 100, paymentHash: invoice.paymentHash, preimage: nil)
            guard case .succeeded = ok else { Issue.record("invoice not paid: \(ok)"); return }
            let list = try await payee.invoices()
            #expect(list.first { $0.paymentHash == invoice.paymentHash }?.paid?.amount == Amount(100))
            #expect(list.first { $0.paymentHash == short.paymentHash }?.paid == nil)
        }
    }

    /// Two paths 0 → 1 → 3 (fee 12) and 0 → 2 → 3 (node 2 charges 5 + 1 %: fee 15).
    static let diamond = [(0, 1), (0, 2), (1, 3), (2, 3)]

    @Test func anOfflineHopIsRoutedAround() async throws {
        try await withTestNetwork(4, configure: Self.configure(advertised: { $0 == 2 ? 5 : Self.feeBase })) { net in
            let c = try await Self.mesh(net, Self.diamond)
            await net[1].stop()
            let p = try await Self.routed(net[0]).pay(to: net[3].id, amount: Amount(1_000), asset: TestNetwork.usdc)
            #expect(Self.succeeded(p) && p.attempts.count == 2 && p.feesPaid == Amount(15))
            #expect(p.attempts.first?.route.hops.first?.nodeID == net[1].id)
            guard case .failed(_, .temporaryChannelFailure, _)? = p.attempts.first?.outcome else {
                Issue.record("first attempt: \(String(describing: p.attempts.first?.outcome))"); return
            }
            #expect(p.attempts.last?.route.hops.map(\.nodeID) == [net[2].id, net[3].id])
            try await Self.expectSettled(net, 0, 2, c[1], 1_015)
            try await Self.expectSettled(net, 2, 3, c[3], 1_000)
        }
    }

    @Test func reputationSteersALaterPaymentAwayFromAFailingNode() async throws {
        // Node 1 advertises 2 + 1 % but demands 3 + 1 %: it refuses what the route pays it (1403).
        try await withTestNetwork(4, configure: Self.configure(advertised: { $0 == 2 ? 5 : Self.feeBase }, enforced: { $0 == 1 ? 3 : nil })) { net in
            _ = try await Self.mesh(net, Self.diamond)
            let payer = try Self.routed(net[0])
            let first = try await payer.pay(to: net[3].id, amount: Amount(1_000), asset: TestNetwork.usdc)
            #expect(Self.succeeded(first) && first.attempts.count == 2)
            guard case .failed(0, .feeInsufficient, let node)? = first.attempts.first?.outcome else {
                Issue.record("first attempt: \(String(describing: first.attempts.first?.outcome))"); return
            }
            #expect(node == net[1].id)
            let rep = await payer.reputationSnapshot()
            #expect(rep.nodes.first { $0.0 == net[1].id }?.1.failures == ReputationTracker.unit)
            // Without history the cheaper path through node 1 comes first ...
            let (graph, now) = await net[0].gossip.graphSnapshot()
            let plain = try RoutingGraph(graph, asset: TestNetwork.usdc)
                .findRoute(RouteQuery(source: net[0].id, target: net[3].id, amount: Amount(1_000), now: now))
            #expect(plain.hops.first?.nodeID == net[1].id)
            // ... but the next payment, a new one, goes through node 2 at its first attempt.
            let second = try await payer.pay(to: net[3].id, amount: Amount(1_000), asset: TestNetwork.usdc)
            #expect(Self.succeeded(second) && second.attempts.count == 1 && second.attempts.first?.route.hops.first?.nodeID == net[2].id)
        }
    }
}
