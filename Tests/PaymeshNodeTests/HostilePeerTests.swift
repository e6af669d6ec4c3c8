import Foundation
import PaymeshConsole
import PaymeshHostile
import PaymeshMessages
import PaymeshNode
import PaymeshTestSupport
import Testing

/// The hostile-peer library (Sources/PaymeshHostile, written from Specs/) against a real node in
/// this process on loopback: first that the library itself speaks paymesh/1 correctly, then the
/// attacks of issue 7 as regression tests.
/// The issue 7 tests (items 1, 2, 8, 13) failed on the code before its fixes.
@Suite(.serialized) struct HostilePeerTests {
    static let usdc: [String: JSONValue] = ["asset": "USDC", "decimals": 6]

    static func target(_ node: RunningNode) -> HostileTarget { HostileTarget(port: node.started.listen.port) }

    // MARK: The library speaks paymesh/1

    @Test func handshakeThenUnknownTypeIsAnsweredWith1500() async throws {
        let node = try await RunningNode.start()
        defer { removeDirectory(node.directory) }
        let port = node.started.listen.port
        let (peer, error) = try await offload { () throws -> (String?, ErrorMessage?) in
            let c = try HostileConnection.connect(port: port)
            defer { c.close() }
            let stream = try c.openStream()
            try c.sendStreamData(HostileCraft.unknownTypeFrame(type: 13), on: stream)
            let reply = try c.nextMessage(timeout: 20) { if case .error = $0 { true } else { false } }
            guard case .error(let e)? = reply else { return (c.peer?.address.description, nil) }
            return (c.peer?.address.description, e)
        }
        #expect(peer == node.started.id.description)
        #expect(error?.code.rawValue == 1500)
        #expect(error?.refType == 13)
        await node.stop()
    }

    @Test func pingIsAnswered() async throws {
        let node = try await RunningNode.start()
        defer { removeDirectory(node.directory) }
        let port = node.started.listen.port
        let responses = try await offload { () throws -> Int in
            let c = try HostileConnection.connect(port: port)
            defer { c.close() }
            try c.send(frames: [.ping(value: 7, response: false)])
            let deadline = Date().addingTimeInterval(20)
            while c.counters.pingResponses == 0, deadline.timeIntervalSinceNow > 0, try c.pump(timeout: 0.5) {}
            return c.counters.pingResponses
        }
        #expect(responses == 1)
        await node.stop()
    }

    @Test func yamuxViolationClosesTheConnectionAndBansTheIdentity() async throws {
        let node = try await RunningNode.start()
        defer { removeDirectory(node.directory) }
        let target = Self.target(node)
        let report = try await offload { HostileAttacks.throwawayIdentityViolations(target, seconds: 30, maxCount: 1) }
        #expect(report["violations"] == 1)
        #expect(report["closedByNode"] == 1)
        #expect(try await eventually(20) { try await node.call("getinfo")["peers"]?["banned"]?.intValue == 1 })
        await node.stop()
    }

    @Test func signedOpenFromAHostilePayerIsAccepted() async throws {
        let node = try await RunningNode.start()
        defer { removeDirectory(node.directory) }
        let port = node.started.listen.port
        let ack = try await offload { () throws -> PaymentAck? in
            let c = try HostileConnection.connect(port: port)
            defer { c.close() }
            let stream = try c.openStream()
            let open = try HostileCraft.open(from: c.identity, to: c.peer!.address, deposit: 1_000)
            try c.send([.paymentOpen(open)], on: stream)
            return try c.ack(for: open.channelID, nonce: open.nonce, timeout: 20)
        }
        #expect(ack?.status == .accepted)
        await node.stop()
    }

    /// Every primitive the soak uses runs, does something, and ends within its bound.
    @Test func attackPrimitivesAreBoundedAndEffective() async throws {
        let node = try await RunningNode.start()
        defer { removeDirectory(node.directory) }
        let target = Self.target(node)
        let reports = try await offload { () -> [AttackReport] in
            // The floods that need answers run first, on a quiet node, with time to spare on a
            // loaded machine; the ping flood (which leaves the node busy answering) comes after.
            [
                // A short flood and a long wait for its answers: on a loaded machine a debug node
                // answers the opens slowly (each one is a signature recovery and a write).
                HostileAttacks.openFlood(target, seconds: 0.5, drainSeconds: 20),
                HostileAttacks.errorReplyFlood(target, seconds: 3),
                HostileAttacks.handshakeThenClose(target, seconds: 1),
                HostileAttacks.pingFlood(target, seconds: 1),
            ]
        }
        for r in reports { #expect(r.seconds < 20, "\(r)") }
        #expect(reports[0]["opens"] > 0 && reports[0]["accepted"] > 0, "\(reports[0])")
        #expect(reports[1]["messages"] > 0, "\(reports[1])")
        #expect(reports[2]["handshakes"] > 0 && reports[2]["failures"] == 0, "\(reports[2])")
        #expect(reports[3]["pings"] > 0, "\(reports[3])")
        let (swarm, fill) = try await offload { HostileAttacks.fillMaxPeers(target, count: 3) }
        defer { swarm.close() }
        #expect(fill["connected"] == 3)
        #expect(try await eventually(20) { try await node.call("getinfo")["peers"]?["connected"]?.intValue ?? 0 >= 3 })
        // The stallers come last: they share 127.0.0.1, whose pending handshakes are capped
        // (8 per address), so handshakes right behind them would be refused.
        let stalled = try await offload { HostileAttacks.stalledHandshakes(target, count: 20, seconds: 1) }
        #expect(stalled.seconds < 20 && stalled["connected"] >= 20, "\(stalled)")
        await node.stop()
    }

    // MARK: The hostile peer as a payee of the node

    /// The node opens a channel to a hostile peer and pays it `payments` × 10.
    static func channelToHostilePayee(_ node: RunningNode, payments: Int) async throws
        -> (connection: HostileConnection, open: PaymentOpen, stream: UInt32, channel: JSONValue)
    {
        let port = node.started.listen.port
        let c = try await offload { () throws -> HostileConnection in
            let c = try HostileConnection.connect(port: port)
            try c.openStream()
            return c
        }
        let peerID = c.identity.address.description
        #expect(try await eventually(20) { try await node.connectedPeers().contains(peerID) })
        var fund = usdc
        fund["amount"] = "1000000000"
        _ = try await node.call("ledger.fund", fund)
        async let accepted = offload { try c.acceptOpen(timeout: 30) }
        var params = usdc
        params["peer"] = .string(peerID)
        params["deposit"] = "1000000"
        params["timeout_ms"] = 30_000
        let opened = try await node.call("channel.open", params)
        let (open, stream) = try #require(try await accepted)
        let channel = try #require(opened["channel"])
        async let vouchers = offload { try c.acceptVouchers(open.channelID, through: UInt64(payments), timeout: 30) }
        let paid = try await node.call("pay", ["channel": channel, "amount": "10", "count": .int(Int64(payments)), "timeout_ms": 30_000])
        let last = try await vouchers
        #expect(paid["complete"]?.boolValue == true)
        #expect(last?.nonce == UInt64(payments))
        #expect(last?.amount == Amount(UInt128(payments * 10)))
        return (c, open, stream, channel)
    }

    @Test func hostilePayeeHoldsARealChannel() async throws {
        let node = try await RunningNode.start()
        defer { removeDirectory(node.directory) }
        let (c, _, _, channel) = try await Self.channelToHostilePayee(node, payments: 5)
        defer { c.close() }
        let got = try await node.call("channel.get", ["channel": channel])
        #expect(got["state"] == "ACTIVE" && got["role"] == "payer" && got["ackedNonce"] == 5 && got["paid"] == "50")
        await node.stop()
    }

    // MARK: Issue 7 items (fail before the fixes)

    /// Item 1: a unilateral PAYMENT_CLOSE the payer never signed (nonce 999, the whole deposit,
    /// signed by the payee alone) must never become the channel's final state.
    @Test
    func forgedUnilateralCloseIsNotSettled() async throws {
        let node = try await RunningNode.start()
        defer { removeDirectory(node.directory) }
        let (c, open, stream, channel) = try await Self.channelToHostilePayee(node, payments: 5)
        defer { c.close() }
        _ = try await offload { () throws -> PaymentAck? in
            let forged = try HostileCraft.close(open.channelID, finalNonce: 999, finalAmount: 1_000_000, cooperative: false,
                                                closer: c.identity, domain: open.signingDomain)
            try c.send([.paymentClose(forged)], on: stream)
            // Whatever the node answers (a refusal, or nothing): wait for it, bounded.
            return try c.ack(for: open.channelID, nonce: 999, timeout: 10)
        }
        let got = try await node.call("channel.get", ["channel": channel])
        let claimed = got["close"]?["finalAmount"]?.stringValue.flatMap { UInt128($0) } ?? 0
        #expect(claimed <= 50, "the node accepted a close for \(claimed) though the payer signed 50: \(got)")
        await node.stop()
    }

    /// Item 2: PAYMENT_OPEN deposit 1, then 2^128 − 1 from the same fresh identity: the huge one
    /// is refused with a code and the node keeps acknowledging (the store is not disabled).
    @Test
    func hugeDepositOpenDoesNotDisableTheStore() async throws {
        let node = try await RunningNode.start()
        defer { removeDirectory(node.directory) }
        let target = Self.target(node)
        let (small, huge, probe) = try await offload { try HostileAttacks.hugeDepositOpens(target, timeout: 20) }
        #expect(small?.status == .accepted)
        #expect(huge?.status == .rejected && huge?.errorCode != nil, "huge deposit: \(String(describing: huge))")
        #expect(probe?.status == .accepted, "the node no longer acknowledges after the huge open: \(String(describing: probe))")
        await node.stop()
    }

    /// Item 8: throwaway identities fill maxPeers; a payer with an open channel that restarts
    /// must get back in (reserved slots / newcomers evicted first).
    @Test
    func payerWithChannelReconnectsWhenPeerSlotsAreFull() async throws {
        let node = try await RunningNode.start { $0.peers.table.maxPeers = 3 }
        defer { removeDirectory(node.directory) }
        let payerDirectory = temporaryDirectory()
        defer { removeDirectory(payerDirectory) }
        let payer = try await RunningNode.start(directory: payerDirectory, peers: [node.started.listen])
        let nodeID = node.started.id.description
        #expect(try await eventually(20) { try await payer.connectedPeers() == [nodeID] })
        var fund = Self.usdc
        fund["amount"] = "1000000"
        _ = try await payer.call("ledger.fund", fund)
        var params = Self.usdc
        params["peer"] = .string(nodeID)
        params["deposit"] = "1000"
        #expect(try await payer.call("channel.open", params)["state"] == "OPEN")
        await payer.stop()
        let target = Self.target(node)
        let (swarm, fill) = try await offload { HostileAttacks.fillMaxPeers(target, count: 3) }
        defer { swarm.close() }
        #expect(fill["connected"] == 3)
        let restarted = try await RunningNode.start(directory: payerDirectory, peers: [node.started.listen])
        // Decided on the node's side: the payer's own table says "connected" for an instant after
        // each handshake even when the node then refuses it (tooManyPeers).
        let payerID = restarted.started.id.description
        #expect(try await eventually(30) { try await node.connectedPeers().contains(payerID) },
                "the payer could not reconnect: slots held by newcomers")
        await restarted.stop()
        await node.stop()
    }

    /// Item 13: a yamux protocol error is answered with GoAway(1) before the close (mux.md §7).
    @Test
    func yamuxViolationIsAnsweredWithGoAway1() async throws {
        let node = try await RunningNode.start()
        defer { removeDirectory(node.directory) }
        let target = Self.target(node)
        let report = try await offload { HostileAttacks.throwawayIdentityViolations(target, seconds: 30, maxCount: 1) }
        #expect(report["closedByNode"] == 1)
        #expect(report["goAwayProtocolError"] == 1, "\(report)")
        await node.stop()
    }
}
