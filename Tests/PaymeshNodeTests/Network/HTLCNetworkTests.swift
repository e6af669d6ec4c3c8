import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshTestSupport
import Testing

/// Payments over explicit routes of 2 and 3 hops on the in-memory network (Specs/channels.md §12):
/// the node drives its HTLC book over `/paymesh/payments/3`, each hop keeps its fee, what each
/// channel's book holds is durable (it survives a crash of a forwarder).
@Suite struct HTLCNetworkTests {
    static let fees = HTLCPolicy(feeBase: 2, feePPM: 10_000) // 2 + 1 % of what a hop forwards

    /// A line of nodes 0 → 1 → … → n − 1, each paying the next over one channel of `deposit`.
    static func line(_ net: TestNetwork, deposit: UInt128) async throws -> [ChannelID] {
        var channels: [ChannelID] = []
        for i in 0..<(net.nodes.count - 1) {
            try await net.connect(i, i + 1)
            try await net[i].fund(deposit)
            channels.append(try await net[i].openChannel(to: net[i + 1], deposit: deposit))
        }
        return channels
    }

    static func route(_ net: TestNetwork, _ channels: [ChannelID]) -> [RouteHop] {
        channels.indices.map { i in
            RouteHop(nodeKey: net[i + 1].key.publicKey, channelID: channels[i], feeBase: fees.feeBase, feePPM: fees.feePPM)
        }
    }

    static func settled(_ node: TestNode, _ channel: ChannelID) async -> UInt128? {
        await node.payments.htlcChannel(channel)?.settled
    }

    @Test func twoHopsPayTheFinalHopAndTheForwarderItsFee() async throws {
        try await withTestNetwork(3, configure: { _, setup in setup.payments.htlcPolicy = Self.fees }) { net in
            let channels = try await Self.line(net, deposit: 10_000)
            let result = try await net[0].payments.payRoute(Self.route(net, channels), amount: 1_000)
            // Hop 1 forwards 1,000 and keeps 2 + 10 = 12.
            guard case .succeeded(_, _, let amount, let fees) = result else { Issue.record("payment failed: \(result)"); return }
            #expect(amount == 1_000 && fees == 12)
            // Exact balances at every hop, both ends of each channel; nothing stays locked.
            for (payer, payee, channel, paid) in [(0, 1, channels[0], UInt128(1_012)), (1, 2, channels[1], 1_000)] {
                try await net[payer].waitFor("\(channel) settled at \(paid) on both ends") {
                    let a = await net[payer].payments.htlcChannel(channel), b = await net[payee].payments.htlcChannel(channel)
                    return a?.settled == paid && b?.settled == paid && a?.htlcs.isEmpty == true && b?.htlcs.isEmpty == true ? true : nil
                }
            }
            // Handed back to the channel machines (channels.md §12.10): plain payments continue on the
            // same voucher sequence, and a close settles what the HTLCs paid.
            let plain = try await net[0].pay(channels[0], amount: 1)
            #expect(plain.error == nil && plain.channels.first?.ackedAmount == 1_013)
            let before = try await net[1].wallet()
            _ = try await net[0].close(channels[0], cooperative: true, wait: true)
            #expect(try await net[1].wallet() - before == 1_013)
        }
    }

    @Test func threeHopsPayEveryHopItsFee() async throws {
        try await withTestNetwork(4, configure: { _, setup in setup.payments.htlcPolicy = Self.fees }) { net in
            let channels = try await Self.line(net, deposit: 10_000)
            let result = try await net[0].payments.payRoute(Self.route(net, channels), amount: 1_000)
            // Hop 2 forwards 1,000 for 12; hop 1 forwards 1,012 for 2 + 10 = 12.
            guard case .succeeded(_, _, let amount, let fees) = result else { Issue.record("payment failed: \(result)"); return }
            #expect(amount == 1_000 && fees == 24)
            for (i, paid) in [(0, UInt128(1_024)), (1, 1_012), (2, 1_000)] {
                try await net[i].waitFor("\(channels[i]) settled at \(paid) on both ends") {
                    let a = await Self.settled(net[i], channels[i]), b = await Self.settled(net[i + 1], channels[i])
                    return a == paid && b == paid ? true : nil
                }
            }
        }
    }

    /// Hop 1 forwards to hop 2, which never gets the HTLC (their link is cut first, so the proposal
    /// is lost): hop 1's HTLC expires, its sweeper cancels it and fails the payment upstream (1401);
    /// every HTLC is unlocked and each channel is back at what plain payments paid. With
    /// `restartForwarder`, hop 1 crashes while the HTLCs are pending and restarts from its store
    /// first: the link between its two HTLCs and the onion secret it needs upstream are durable.
    @Test(arguments: [false, true]) func aHopThatNeverAnswersUnlocksEverythingAtExpiry(restartForwarder: Bool) async throws {
        try await withTestNetwork(3, configure: { _, setup in setup.payments.htlcPolicy = Self.fees }) { net in
            let channels = try await Self.line(net, deposit: 10_000)
            for i in 0..<2 { _ = try await net[i].pay(channels[i], amount: 5) } // plain vouchers first: the book takes over at 5
            net.disconnect(1, 2)
            let route = Self.route(net, channels)
            let payment = Task { try await net[0].payments.payRoute(route, amount: 1_000, timeoutMillis: 100_000_000) }
            try await net[1].waitFor("hop 1 offered the HTLC on \(channels[1])") {
                await net[1].payments.htlcChannel(channels[1])?.pending.count == 1 ? true : nil
            }
            if restartForwarder {
                try await net[1].restart(crash: true)
                #expect(await net[1].payments.htlcChannel(channels[0])?.pending.first?.link != nil)
                try await net.connect(0, 1)
            }
            // Hop 2's expiry is 120 s away (2 × minFinalExpiry); hop 1's incoming one 10 min later.
            net.advance(by: .seconds(121))
            let result = try await payment.value
            guard case .failed(_, let hop, let node, let code) = result else { Issue.record("payment did not fail: \(result)"); return }
            #expect(hop == 0 && node == net[1].id && code == .htlcTimeout)
            try await net[0].waitFor("both ends of \(channels[0]) unlocked at 5") {
                let a = await net[0].payments.htlcChannel(channels[0]), b = await net[1].payments.htlcChannel(channels[0])
                return a?.settled == 5 && a?.htlcs.isEmpty == true && b?.settled == 5 && b?.htlcs.isEmpty == true ? true : nil
            }
            let out = await net[1].payments.htlcChannel(channels[1])
            #expect(out?.settled == 5 && out?.locked == 0)
        }
    }
}
