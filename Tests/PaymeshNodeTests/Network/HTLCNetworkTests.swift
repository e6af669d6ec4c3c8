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
                    await Self.settled(net[payer], channel) == paid && await Self.settled(net[payee], channel) == paid
                        && (await net[payer].payments.htlcChannel(channel)?.htlcs.isEmpty ?? false)
                        && (await net[payee].payments.htlcChannel(channel)?.htlcs.isEmpty ?? false)
                }
            }
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
                    await Self.settled(net[i], channels[i]) == paid && await Self.settled(net[i + 1], channels[i]) == paid
                }
            }
        }
    }
}
