import Foundation
import PaymeshMessages
import PaymeshNode
import PaymeshStore
import PaymeshTestSupport
import Testing

/// Issue 7 item 9 with real nodes: a cooperative close cut short by a stop resumes after the
/// restart, on both sides, until SETTLED, with the amounts applied once. The durable state at the
/// crash point is made exactly (a node stopped at that point, or its store left as a SIGKILL
/// between two writes leaves it).
@Suite(.serialized) struct CloseResumeNodeTests {
    static func restart(_ node: RunningNode, peers: [PeerEndpoint] = []) async throws -> RunningNode {
        let port = node.started.listen.port
        await node.stop()
        return try await RunningNode.start(directory: node.directory, peers: peers) {
            $0.listen = PeerEndpoint(host: "127.0.0.1", port: port)
        }
    }

    static func state(_ node: RunningNode, _ channel: JSONValue) async throws -> String? {
        try await node.call("channel.get", ["channel": channel])["state"]?.stringValue
    }

    /// "Payee CLOSING while the payer is ACTIVE": the payee proposed while the payer was down (the
    /// proposal never left), then the payee restarted too. Both restart from their stores.
    @Test func payeesProposalMadeWhileThePayerWasDownFinishesAfterBothRestart() async throws {
        try await withTimeout(120) {
            let (payer, payee, channel) = try await PaymentsFlowTests.openChannel()
            defer { removeDirectory(payer.directory); removeDirectory(payee.directory) }
            let paid = try await payer.call("pay", ["channel": channel, "amount": "10", "count": 5])
            #expect(paid["ackedAmount"] == "50")
            let payeeListen = payee.started.listen
            let payerDirectory = payer.directory
            await payer.stop()
            let closing = try await payee.call("channel.close", ["channel": channel, "mode": "cooperative", "wait": false])
            #expect(closing["state"] == "CLOSING")
            let payee2 = try await Self.restart(payee)
            defer { Task { await payee2.stop() } }
            #expect(try await Self.state(payee2, channel) == "CLOSING")
            let payer2 = try await RunningNode.start(directory: payerDirectory, peers: [payeeListen])
            defer { Task { await payer2.stop() } }
            #expect(try await eventually(60) { try await Self.state(payer2, channel) == "SETTLED" })
            #expect(try await eventually(60) { try await Self.state(payee2, channel) == "SETTLED" })
            #expect(try await payer2.call("balance", ["asset": "USDC"])["wallets"] == [["asset": "USDC", "amount": "999999950"]])
            #expect(try await payee2.call("balance", ["asset": "USDC"])["wallets"] == [["asset": "USDC", "amount": "50"]])
        }
    }

    /// "A payout recorded while the state still said CLOSING": the books hold the payout, the
    /// channel's record says CLOSING with the payout requested and submitted (a SIGKILL between the
    /// two writes). After the restart the channel is SETTLED and nothing moved twice.
    @Test func payoutAppliedWhileTheRecordSaysClosingBecomesSettledOnRestart() async throws {
        try await withTimeout(120) {
            let (payer, payee, channel) = try await PaymentsFlowTests.openChannel()
            defer { removeDirectory(payer.directory); removeDirectory(payee.directory) }
            _ = try await payer.call("pay", ["channel": channel, "amount": "10", "count": 5])
            let closed = try await payer.call("channel.close", ["channel": channel, "mode": "cooperative", "wait": true])
            #expect(closed["state"] == "SETTLED")
            let payeeListen = payee.started.listen
            await payer.stop()

            // Rewrite the payer's channel record to the state of the crash point.
            let id = try ChannelID(hex: try #require(channel.stringValue))
            let key = "channel/" + id.bytes.map { String(format: "%02x", $0) }.joined()
            let store = try ChannelStore(path: payer.directory + "/channels.sqlite")
            let bytes = try #require(try store.metadata(forKey: key))
            var extras = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            #expect(try store.channel(id)?.status == .settled)
            #expect(extras["state"] == nil, "the row's state is the one source of truth")
            var close = try #require(extras["close"] as? [String: Any])
            #expect(close["payoutRequested"] as? Bool == true && close["settlementID"] != nil)
            close["payoutRequested"] = true
            extras["close"] = close
            try await store.updateState(channel: id, status: .closing, lockedAmount: nil, closeInfo: nil,
                                        metadata: Array(try JSONSerialization.data(withJSONObject: extras, options: .sortedKeys)), forKey: key)
            await store.close()

            let payer2 = try await RunningNode.start(directory: payer.directory, peers: [payeeListen])
            defer { Task { await payer2.stop() } }
            #expect(try await eventually(60) { try await Self.state(payer2, channel) == "SETTLED" })
            #expect(try await payer2.call("balance", ["asset": "USDC"])["wallets"] == [["asset": "USDC", "amount": "999999950"]])
            await payee.stop()
        }
    }
}
