import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshTestSupport
import Testing

/// A forwarder sends HTLC_FULFILL upstream before the write that records the preimage (Specs/
/// channels.md §12.4), on the in-memory network with the manual clock: a line 0 → 1 → 2 → 3 where
/// node 2's writes after its forward are refused for real by a trigger in its own SQLite file — what
/// a kill -9 right after the fulfil upstream leaves — and node 2 then crashes and restarts.
@Suite struct HTLCForwarderFulfilTests {
    typealias N = HTLCNetworkTests
    typealias R = RoutedPaymentsTests

    static func storePath(_ node: TestNode) -> String { node.directory + "/" + PaymentsConfiguration.storeFileName }

    /// Pays 1,000 from node 0 to node 3 while node 2 cannot write the HTLC states of its fulfil — the
    /// preimage of its incoming HTLC, the voucher paying node 3 — (and node 1's voucher answering node
    /// 2's fulfil is held): the payment still succeeds at the origin, because node 2's fulfil went
    /// upstream ahead of its writes. Then node 2 crashes and restarts with its incoming HTLC pending,
    /// no preimage. Returns the channels.
    static func forwarderKilledAfterItsFulfilUpstream(_ net: TestNetwork) async throws -> [ChannelID] {
        let c = try await N.line(net, deposit: 10_000)
        let path = Self.storePath(net[2])
        #expect(net.hold(3, 2) > 0) // node 3's fulfil waits on the link
        let route = N.route(net, c)
        let payment = Task { try await net[0].payments.payRoute(route, amount: 1_000) }
        // Node 3 has the HTLC, so node 2's forward is durable; every HTLC write of node 2 from now on is refused.
        try await net[3].waitFor("node 3 fulfilled its HTLC") {
            await net[3].payments.htlcChannel(c[2])?.htlcs.first?.state == .fulfilled ? true : nil
        }
        try StoreHardeningTests.sql(path, "CREATE TRIGGER refuse_htlcs BEFORE INSERT ON htlc_channels BEGIN SELECT RAISE(ABORT, 'injected'); END")
        #expect(net.hold(1, 2) > 0) // node 1's answer to node 2's fulfil never arrives before the crash
        net.release(3, 2)
        let result = try await payment.value
        guard case .succeeded(_, _, let amount, let fees) = result else { Issue.record("payment: \(result)"); return c }
        #expect(amount == 1_000 && fees == 24)
        // Node 2 recorded nothing of its fulfil; it paid node 3 nothing (that voucher waits for the write).
        let rows = try StoreHardeningTests.sql(path, "SELECT side, state, hex(channel) FROM htlcs ORDER BY side", readOnly: true)
        #expect(rows.map { $0.split(separator: "|").prefix(2).joined(separator: " ") } == ["offered pending", "received pending"], "\(rows)")
        #expect(await net[3].payments.htlcChannel(c[2])?.settled == 0)
        await net[2].crash()
        try StoreHardeningTests.sql(path, "DROP TRIGGER refuse_htlcs")
        try await net[2].start()
        let incoming = await net[2].payments.htlcChannel(c[1])?.htlcs.first
        #expect(incoming?.state == .pending && incoming?.preimage == nil)
        return c
    }

    /// Every hop is paid exactly once after the restart: node 1 resends at re-establishment the
    /// voucher that settles node 2's HTLC, which node 2 still holds as pending — accepted, it pays the
    /// HTLC; then node 3 repeats its fulfil, node 2 learns the preimage again and pays node 3.
    /// Nothing stays locked anywhere.
    @Test func aForwarderKilledAfterItsFulfilUpstreamEndsWithEveryHopPaidOnce() async throws {
        try await withTestNetwork(4, configure: { _, setup in setup.payments.htlcPolicy = N.fees }) { net in
            let c = try await Self.forwarderKilledAfterItsFulfilUpstream(net)
            try await net.connect(1, 2)
            try await R.expectSettled(net, 1, 2, c[1], 1_012)
            #expect(await net[2].payments.htlcChannel(c[2])?.pending.count == 1) // not paid before node 3 tells
            try await net.connect(2, 3)
            try await R.expectSettled(net, 2, 3, c[2], 1_000)
            try await R.expectSettled(net, 0, 1, c[0], 1_024)
            for i in 0..<4 { #expect(await net[i].payments.htlcEntries().isEmpty, "node \(i) holds an HTLC") }
        }
    }

    /// An upstream that never pays (node 1 stays away): node 2 still learns the preimage from node
    /// 3's repeated fulfil and makes it durable with the voucher paying node 3, so after another
    /// crash it holds the preimage and node 1's conditional voucher locking the HTLC — what a claim
    /// shows — and it is paid as soon as node 1 is back.
    @Test func aForwarderWhoseUpstreamNeverPaysKeepsThePreimageToClaim() async throws {
        try await withTestNetwork(4, configure: { _, setup in setup.payments.htlcPolicy = N.fees }) { net in
            let c = try await Self.forwarderKilledAfterItsFulfilUpstream(net)
            try await net.connect(2, 3)
            // Node 2 paid node 3: that voucher followed the write of the preimage.
            try await R.expectSettled(net, 2, 3, c[2], 1_000)
            await net[2].crash()
            try await net[2].start()
            let held = try #require(await net[2].payments.htlcChannel(c[1]))
            let entry = try #require(held.htlcs.first)
            #expect(entry.state == .fulfilled && entry.preimage.map { try! Hash32(SHA256.hash($0.bytes)) } == entry.paymentHash)
            #expect(held.latestVoucher?.locks.map(\.htlcID) == [entry.htlcID] && held.settled == 0)
            // Node 1 is back: node 2 repeats its fulfil at re-establishment and is paid.
            try await net.connect(1, 2)
            try await R.expectSettled(net, 1, 2, c[1], 1_012)
            try await R.expectSettled(net, 0, 1, c[0], 1_024)
            for i in 0..<4 { #expect(await net[i].payments.htlcEntries().isEmpty, "node \(i) holds an HTLC") }
        }
    }
}
