import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import PaymeshOnion
import PaymeshStore
import Testing

/// What an HTLC book needs after a restart comes back from the store (Specs/storage.md "HTLCs"):
/// the ids a channel used (never reused, 1103) and a forwarder's onion secrets (failures stay
/// attributable to the hop that failed).
@Suite("HTLC book: durable ids and secrets")
struct HTLCDurabilityTests {
    /// Writes every state `node` persisted, in order, to a real store and restarts its book from
    /// what the store reads back.
    static func restartThroughStore(_ net: inout HTLCNet, node: Int) async throws {
        let directory = temporaryDirectory()
        defer { removeDirectory(directory) }
        let store = try ChannelStore(path: directory + "/channels.sqlite")
        var terms: [ChannelID: (ChannelTerms, PaymeshChannels.ChannelRole)] = [:]
        for c in net.books[node].channels.values {
            terms[c.channelID] = (c.terms, c.role)
            let role: PaymeshStore.ChannelRole = c.role == .payer ? .payer : .payee
            try await store.saveChannel(ChannelRecord(
                id: c.channelID, role: role, localAddress: net.address(node), remoteAddress: c.peer, asset: HTLCNet.usdc,
                deposit: Amount(c.terms.deposit), challengePeriodSeconds: 60, settlementBackend: LedgerRules.localLedgerID, chainID: 0,
                verifyingContract: .zero, status: .open, openSignature: nil, openedAtMillis: Int64(HTLCNet.t0)))
        }
        for c in net.persisted[node] { try await store.saveHTLCs(c.stored) }
        var restarted = HTLCBook(key: net.keys[node], policy: net.books[node].policy)
        for s in try store.loadHTLCChannels() {
            let (t, role) = try #require(terms[s.channelID])
            restarted.restore(HTLCChannel(restoring: s, terms: t, role: role))
        }
        await store.close()
        net.books[node] = restarted
    }

    @Test func aReusedHTLCIDIsRefusedAfterARestart() async throws {
        var net = try HTLCNet(nodes: 2)
        try net.pay(to: 1, amount: 10, seed: 3) // htlc id 0x03…, fulfilled, then left out by the payer's voucher
        #expect(net.channel(1, 0).htlcs.isEmpty && net.channel(1, 0).settled == 10)
        try await Self.restartThroughStore(&net, node: 1)
        let again = try HTLCHostileTests.propose(net, id: 3, amount: 10, nonce: 3, voucherAmount: 20)
        let actions = net.books[1].onReceived(.htlcPropose(again), from: net.address(0), now: net.now)
        #expect(HTLCHostileTests.refusal(actions) == .duplicateNonce)
        #expect(net.channel(1, 0).settled == 10 && net.channel(1, 0).htlcs.isEmpty && net.channel(1, 0).nonce == 2)
        // A fresh id is still accepted.
        let fresh = try HTLCHostileTests.propose(net, id: 4, amount: 10, nonce: 3, voucherAmount: 20)
        #expect(HTLCHostileTests.refusal(net.books[1].onReceived(.htlcPropose(fresh), from: net.address(0), now: net.now)) == nil)
    }

    @Test func thePayerDoesNotReuseAnIDAfterARestart() async throws {
        var net = try HTLCNet(nodes: 2)
        try net.pay(to: 1, amount: 10, seed: 5)
        try await Self.restartThroughStore(&net, node: 0)
        do {
            try net.pay(to: 1, amount: 10, seed: 5)
            Issue.record("the payer reused htlc id 0x05…")
        } catch { #expect((error as? NodeError)?.paymeshCode == .duplicateNonce) }
    }

    @Test func usedIDsAreBoundedPerChannel() throws {
        var net = try HTLCNet(nodes: 2, policies: [1: HTLCPolicy(maxHTLCsPerChannel: 2)])
        try net.pay(to: 1, amount: 10, seed: 1)
        try net.pay(to: 1, amount: 10, seed: 2)
        let third = try HTLCHostileTests.propose(net, id: 3, amount: 10, nonce: 5, voucherAmount: 30)
        #expect(HTLCHostileTests.refusal(net.books[1].onReceived(.htlcPropose(third), from: net.address(0), now: net.now)) == .channelLimitExceeded)
    }

    /// Node 2 refuses the fee; its cancel reaches node 1 only after node 1 restarted from its store.
    /// Node 1 still wraps the failure with its secret, so the payer names node 2, not the first hop.
    @Test func aRestartedForwarderStillWrapsFailuresSoThePayerNamesTheFailingHop() async throws {
        var net = try HTLCNet(nodes: 4, policies: [2: HTLCPolicy(feeBase: 50)])
        var route = net.route(to: 3)
        route[1] = RouteHop(nodeKey: net.keys[2].publicKey, channelID: net.channels[1].channelID, feeBase: 49)
        var held: [(Int, Int, Message)] = []
        net.drop = { from, to, m in
            guard from == 2, to == 1, case .htlcCancel = m else { return false }
            held.append((from, to, m))
            return true
        }
        try net.pay(to: 3, amount: 1_000, seed: 21, route: route)
        #expect(HTLCBookTests.failure(net) == nil && held.count == 1)
        #expect(net.channel(1, 0).htlcs.first?.sharedSecret != nil)
        try await Self.restartThroughStore(&net, node: 1)
        net.drop = { _, _, _ in false }
        for m in held { net.queue.append(m) }
        net.run()
        let f = try #require(HTLCBookTests.failure(net))
        #expect(f.0 == 1 && f.1 == net.address(2) && f.2 == .feeInsufficient)
        #expect(net.channel(1, 0).htlcs.allSatisfy { $0.sharedSecret == nil })
        net.expectSettledEverywhere()
    }
}
