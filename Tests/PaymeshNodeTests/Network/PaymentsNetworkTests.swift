import Foundation
import PaymeshChannels
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshStore
import PaymeshTestSupport
import Testing

/// The payment flows of Specs/channels.md on the in-memory network: real payments services and
/// channel stores, no sockets, one manual clock. Each test runs in well under a second.
@Suite struct PaymentsNetworkTests {
    static let funds: UInt128 = 1_000_000_000

    /// Node 0 pays node 1 over one OPEN channel.
    static func openChannel(_ net: TestNetwork, deposit: UInt128 = 100_000_000, challengePeriodSeconds: UInt64 = 3_600) async throws -> ChannelID {
        try await net.connect(0, 1)
        try await net[0].fund(funds)
        let channel = try await net[0].openChannel(to: net[1], deposit: deposit, challengePeriodSeconds: challengePeriodSeconds)
        #expect(await net[0].channel(channel)?.snapshot.state == .open)
        let onPayee = try await net[1].waitForChannel(channel, state: .open)
        #expect(onPayee.snapshot.role == .payee && onPayee.peer == net[0].address)
        return channel
    }

    @Test func payManyAcknowledgedAndHistoryKept() async throws {
        try await withTestNetwork(2) { net in
            let channel = try await Self.openChannel(net)
            let paid = try await net[0].pay(channel, amount: 7, count: 1_000)
            #expect(paid.error == nil && paid.signed == 1_000)
            #expect(paid.channels.first?.ackedNonce == 1_000 && paid.channels.first?.ackedAmount == 7_000)
            let held = try await net[1].waitForChannel(channel, "to hold nonce 1000") { $0.snapshot.latestVoucher?.nonce == 1_000 }
            #expect(held.snapshot.state == .active && held.snapshot.paidAmount == 7_000)
            // Every accepted voucher once, nonces and amounts strictly increasing.
            let history = try await net[1].payments.history(channel, after: 0, limit: 5_000)
            #expect(history.count == 1_000)
            #expect(history.enumerated().allSatisfy { i, v in v.nonce == UInt64(i + 1) && v.amount.atomicUnits == UInt128(7 * (i + 1)) })
            // The payer's view: everything acknowledged.
            let payer = try #require(await net[0].channel(channel))
            #expect(payer.ackedNonce == 1_000 && payer.unacknowledged == 0)
            // A payment above the spending policy is refused with its code and signs nothing.
            try await net[0].payments.setSpendingPolicy(SpendingPolicy(maxPerPayment: 10))
            await #expect { _ = try await net[0].pay(channel, amount: 11) } throws: { ($0 as? NodeError)?.consoleCode == 1104 }
            #expect(await net[0].channel(channel)?.snapshot.latestVoucher?.nonce == 1_000)
        }
    }

    @Test func cooperativeCloseSettlesBothLedgers() async throws {
        try await withTestNetwork(2) { net in
            let channel = try await Self.openChannel(net)
            _ = try await net[0].pay(channel, amount: 5, count: 100)
            let closed = try await net[0].close(channel, cooperative: true, wait: true)
            #expect(closed.snapshot.state == .settled && closed.snapshot.close?.finalAmount == 500)
            try await net[1].waitForChannel(channel, state: .settled)
            #expect(try await net[0].wallet() == Self.funds - 500)
            #expect(try await net[1].wallet() == 500)
            // Closed is closed: a payment is refused with CHANNEL_NOT_ACTIVE.
            await #expect { _ = try await net[0].pay(channel, amount: 1) } throws: { ($0 as? NodeError)?.consoleCode == 1002 }
        }
    }

    /// A unilateral close by the payee: CLOSING for the challenge period (an hour, simulated),
    /// then SETTLED on both nodes by their own timers, the payee paid its latest voucher.
    @Test func unilateralCloseSettlesWhenTheChallengePeriodExpires() async throws {
        try await withTestNetwork(2) { net in
            let channel = try await Self.openChannel(net, deposit: 500, challengePeriodSeconds: 3_600)
            _ = try await net[0].pay(channel, amount: 3, count: 100)
            let closing = try await net[1].close(channel, cooperative: false)
            #expect(closing.snapshot.state == .closing)
            let deadline = try #require(closing.snapshot.close?.challengeDeadline)
            #expect(deadline == net.clock.unixMillis + 3_600_000)
            try await net[0].waitForChannel(channel, "to see the close") { $0.snapshot.state == .closing || $0.snapshot.state == .disputed }
            // A second before the deadline: still CLOSING, nothing paid out.
            net.advance(by: .seconds(3_599))
            #expect(await net[1].channel(channel)?.snapshot.state == .closing)
            #expect(try await net[1].wallet() == 0)
            net.advance(by: .seconds(2))
            try await net[1].waitForChannel(channel, state: .settled)
            try await net[0].waitForChannel(channel, state: .settled)
            #expect(try await net[1].wallet() == 300)
            #expect(try await net[0].wallet() == Self.funds - 300)
        }
    }

    /// The payer restores an old database (nonce 3) and closes unilaterally at 300 while the
    /// payee holds nonce 7: the payee disputes with the higher voucher, which wins at expiry.
    @Test func disputeWithAHigherVoucherWins() async throws {
        try await withTestNetwork(2) { net in
            let channel = try await Self.openChannel(net, deposit: 10_000, challengePeriodSeconds: 60)
            _ = try await net[0].pay(channel, amount: 100, count: 3)
            await net[0].stop()
            let backup = try Self.copy(net[0].directory)
            defer { try? FileManager.default.removeItem(atPath: backup) }
            try await net[0].start()
            try await net.connect(0, 1)
            try await net[0].waitForChannel(channel, "to be re-established") { $0.ackedNonce == 3 }
            let more = try await net[0].pay(channel, amount: 100, count: 4)
            #expect(more.channels.first?.ackedNonce == 7)
            try await net[1].waitForChannel(channel, "to hold nonce 7") { $0.snapshot.latestVoucher?.nonce == 7 }

            await net[0].stop()
            try Self.restore(backup, into: net[0].directory)
            try await net[0].start()
            #expect(await net[0].channel(channel)?.snapshot.latestVoucher?.nonce == 3)
            let stale = try await net[0].close(channel, cooperative: false)
            #expect(stale.snapshot.state == .closing && stale.snapshot.close?.finalAmount == 300)
            try await net.connect(0, 1)
            let disputed = try await net[1].waitForChannel(channel, state: .disputed)
            #expect(disputed.snapshot.close?.finalAmount == 700)
            try await net[0].waitForChannel(channel, state: .disputed)
            net.advance(by: .seconds(61))
            try await net[1].waitForChannel(channel, state: .settled)
            try await net[0].waitForChannel(channel, state: .settled)
            #expect(try await net[1].wallet() == 700)
            #expect(try await net[0].wallet() == Self.funds - 700)
        }
    }

    /// A cut link: payments are refused while the peer is gone (an error, not a hang); after the
    /// reconnection both sides re-establish and payments continue at the next nonce.
    @Test func reestablishesAfterALinkIsCut() async throws {
        try await withTestNetwork(2) { net in
            let channel = try await Self.openChannel(net)
            _ = try await net[0].pay(channel, amount: 2, count: 300)
            #expect(net.disconnect(0, 1) == 1)
            let peer = net[1].id
            _ = try await net[0].waitFor("node 0 to see the link down") { await net[0].peers.connection(to: peer) == nil ? true : nil }
            await #expect { _ = try await net[0].pay(channel, amount: 2) } throws: { ($0 as? NodeError)?.consoleCode == NodeError.peerNotConnected("").consoleCode }
            try await net.connect(0, 1)
            let more = try await net[0].pay(channel, amount: 2, count: 10)
            #expect(more.channels.first?.ackedNonce == 310 && more.channels.first?.ackedAmount == 620)
            try await net[1].waitForChannel(channel, "to hold nonce 310") { $0.snapshot.latestVoucher?.nonce == 310 }
        }
    }

    /// The payer restarts from its store (gracefully, then after a crash of the payee): channels
    /// come back, re-establish, and payments continue.
    @Test func channelsSurviveRestartsAndReestablish() async throws {
        try await withTestNetwork(2) { net in
            let channel = try await Self.openChannel(net)
            _ = try await net[0].pay(channel, amount: 2, count: 300)
            try await net[0].restart()
            let restored = try #require(await net[0].channel(channel))
            #expect(restored.snapshot.state == .active && restored.snapshot.latestVoucher?.nonce == 300 && restored.snapshot.paidAmount == 600)
            try await net.connect(0, 1)
            try await net[0].waitForChannel(channel, "to be acknowledged up to 300") { $0.ackedNonce == 300 }
            let more = try await net[0].pay(channel, amount: 2, count: 10)
            #expect(more.channels.first?.ackedNonce == 310 && more.channels.first?.ackedAmount == 620)

            try await net[1].restart(crash: true)
            #expect(await net[1].channel(channel)?.snapshot.latestVoucher?.nonce == 310)
            try await net.connect(0, 1)
            let after = try await net[0].pay(channel, amount: 2, count: 5)
            #expect(after.channels.first?.ackedNonce == 315)
        }
    }

    /// Issue 7 item 9: the payee proposed a cooperative close while the payer was down, then
    /// restarted too; both finish the close from their stores until SETTLED, paid once.
    @Test func closeProposedWhileThePeerWasDownFinishesAfterRestarts() async throws {
        try await withTestNetwork(2) { net in
            let channel = try await Self.openChannel(net)
            _ = try await net[0].pay(channel, amount: 10, count: 5)
            await net[0].stop()
            let closing = try await net[1].close(channel, cooperative: true)
            #expect(closing.snapshot.state == .closing)
            try await net[1].restart()
            #expect(await net[1].channel(channel)?.snapshot.state == .closing)
            try await net[0].start()
            try await net.connect(0, 1)
            try await net[0].waitForChannel(channel, state: .settled)
            try await net[1].waitForChannel(channel, state: .settled)
            #expect(try await net[0].wallet() == Self.funds - 50)
            #expect(try await net[1].wallet() == 50)
        }
    }

    /// "A payout recorded while the state still said CLOSING": the books hold the payout, the
    /// channel's record says CLOSING with the payout requested and submitted (a SIGKILL between the
    /// two writes leaves exactly that). After the restart the channel is SETTLED, nothing moved twice.
    @Test func payoutAppliedWhileTheRecordSaysClosingBecomesSettledOnRestart() async throws {
        try await withTestNetwork(2) { net in
            let channel = try await Self.openChannel(net)
            _ = try await net[0].pay(channel, amount: 10, count: 5)
            let closed = try await net[0].close(channel, cooperative: true, wait: true)
            #expect(closed.snapshot.state == .settled)
            await net[0].stop()

            // Rewrite the payer's channel record to the state of the crash point.
            let key = "channel/" + channel.bytes.map { String(format: "%02x", $0) }.joined()
            let store = try ChannelStore(path: net[0].directory + "/channels.sqlite")
            let bytes = try #require(try store.metadata(forKey: key))
            var extras = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            #expect(try store.channel(channel)?.status == .settled)
            #expect(extras["state"] == nil, "the row's state is the one source of truth")
            var close = try #require(extras["close"] as? [String: Any])
            #expect(close["payoutRequested"] as? Bool == true && close["settlementID"] != nil)
            close["payoutRequested"] = true
            extras["close"] = close
            try await store.updateState(channel: channel, status: .closing, lockedAmount: nil, closeInfo: nil,
                                        metadata: Array(try JSONSerialization.data(withJSONObject: extras, options: .sortedKeys)), forKey: key)
            await store.close()

            try await net[0].start()
            try await net.connect(0, 1)
            try await net[0].waitForChannel(channel, state: .settled)
            #expect(try await net[0].wallet() == Self.funds - 50)
            #expect(try await net[1].wallet() == 50)
        }
    }

    /// Four nodes, payments on three channels at once (two payers, two payees), then every
    /// channel closed cooperatively: each ledger ends with exact amounts.
    @Test func severalChannelsAcrossFourNodes() async throws {
        try await withTestNetwork(4) { net in
            try await net.connect(0, 1)
            try await net.connect(0, 2)
            try await net.connect(3, 1)
            try await net[0].fund(Self.funds)
            try await net[3].fund(Self.funds)
            let a = try await net[0].openChannel(to: net[1], deposit: 1_000_000)
            let b = try await net[0].openChannel(to: net[2], deposit: 1_000_000)
            let c = try await net[3].openChannel(to: net[1], deposit: 1_000_000)
            async let pa = net[0].pay(a, amount: 3, count: 400)
            async let pb = net[0].pay(b, amount: 5, count: 300)
            async let pc = net[3].pay(c, amount: 7, count: 200)
            let (ra, rb, rc) = try await (pa, pb, pc)
            #expect(ra.channels.first?.ackedAmount == 1_200 && rb.channels.first?.ackedAmount == 1_500 && rc.channels.first?.ackedAmount == 1_400)
            for (payer, channel) in [(0, a), (0, b), (3, c)] {
                let closed = try await net[payer].close(channel, cooperative: true, wait: true)
                #expect(closed.snapshot.state == .settled)
            }
            try await net[1].waitForChannel(a, state: .settled)
            try await net[2].waitForChannel(b, state: .settled)
            try await net[1].waitForChannel(c, state: .settled)
            #expect(try await net[0].wallet() == Self.funds - 2_700)
            #expect(try await net[3].wallet() == Self.funds - 1_400)
            #expect(try await net[1].wallet() == 2_600)
            #expect(try await net[2].wallet() == 1_500)
        }
    }

    // MARK: Data directory copies (a restored backup)

    static func copy(_ directory: String) throws -> String {
        let backup = directory + ".backup"
        try FileManager.default.copyItem(atPath: directory, toPath: backup)
        return backup
    }

    static func restore(_ backup: String, into directory: String) throws {
        try FileManager.default.removeItem(atPath: directory)
        try FileManager.default.copyItem(atPath: backup, toPath: directory)
    }
}
