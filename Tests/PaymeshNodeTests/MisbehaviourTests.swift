import Foundation
import NIOCore
import PaymeshChannels
import PaymeshConsole
import PaymeshCrypto
import PaymeshMessages
import PaymeshNode
import PaymeshTestSupport
import Testing

/// Issue 8: misbehaving peers are reported (forged signatures, malformed frames) and banned per
/// the peer table's policy; message counters are real.
@Suite(.serialized) struct MisbehaviourTests {
    static let usdc = try! Asset(id: "USDC", decimals: 6)

    /// The policy alone (sans-IO): two reports are tolerated, the third within the window bans;
    /// reports older than the window no longer count.
    @Test func thePolicyBansOnTheNthReportWithinTheWindow() {
        let a = address(0x0a), b = address(0x0b)
        var t = PeerTable<TestInstant>(local: a, configuration: .init(banDuration: .seconds(60),
                                                                     misbehaviour: MisbehaviourPolicy(banAfter: 3, window: .seconds(10))))
        _ = t.onInboundConnection(ConnectionID(1), peer: b, remote: nil, now: at(0))
        #expect(t.onMisbehaviour(b, reason: "forged", now: at(0)) == [])
        #expect(t.onMisbehaviour(b, reason: "forged", now: at(1)) == [])
        // At 10.5 s the first report has left the 10 s window: still two.
        #expect(t.onMisbehaviour(b, reason: "forged", now: at(10.5)) == [])
        #expect(t.peers[b]?.state == .connected && t.peers[b]?.counters.violations == 3)
        let reason = "forged (3 violations within 10 s)"
        #expect(t.onMisbehaviour(b, count: 1, reason: "forged", now: at(10.5))
            == [.emit(.peerBanned(b, reason: reason, duration: .seconds(60))), .disconnect(ConnectionID(1), .protocolViolation(reason))])
        #expect(t.metrics.violationsReported == 4 && t.metrics.bansIssued == 1)
    }

    /// A hostile payer with an accepted channel sends vouchers signed by another key: each is
    /// refused with 1101, counted against it, and the third gets it banned (visible in `peer`);
    /// an honest payer paying the same node meanwhile is not banned, has no violations, and the
    /// message counters on both sides equal what the other side sent.
    @Test func forgedVouchersGetThePeerBannedAndCountersAreReal() async throws {
        try await withTimeout(180) {
            let payee = try await RunningNode.start()
            defer { removeDirectory(payee.directory) }
            let (payer, channel) = try await HostileOpenTests.legitimatePayer(of: payee)
            defer { removeDirectory(payer.directory) }

            let hostile = try await HostilePayer.connect(to: payee)
            var answers = hostile.messages.makeAsyncIterator()
            let open = try hostile.open(to: payee.started.id, deposit: 1_000, asset: Self.usdc)
            try await hostile.send([.paymentOpen(open)])
            #expect(try #require(await answers.nextAck()).status == .accepted)
            let forger = IdentityKey.generate()
            let now = UInt64(Date().timeIntervalSince1970 * 1_000)
            for nonce in 1...2 {
                let forged = try PaymentUpdate(channelID: open.channelID, nonce: UInt64(nonce), amount: Amount(UInt128(nonce)), timestamp: now,
                                               signature: .unsigned).signed(with: forger, domain: SigningDomain(chainID: 0))
                try await hostile.send([.paymentUpdate(forged)])
                let ack = try #require(await answers.nextAck())
                #expect(ack.status == .rejected && ack.errorCode == .invalidSignature, "\(ack)")
            }
            let hostileID = JSONValue.string(hostile.key.address.description)
            #expect(try await eventually { try await payee.call("peer", ["id": hostileID])["violations"] == 2 })
            #expect(try await payee.call("peer", ["id": hostileID])["state"] == "connected", "two reports are tolerated")

            let paid = try await payer.call("pay", ["channel": channel, "amount": "3", "count": 50, "timeout_ms": 30_000])
            #expect(paid["complete"] == true && paid["ackedNonce"] == 50, "\(paid)")

            let third = try PaymentUpdate(channelID: open.channelID, nonce: 3, amount: Amount(3), timestamp: now,
                                          signature: .unsigned).signed(with: forger, domain: SigningDomain(chainID: 0))
            try await hostile.send([.paymentUpdate(third)])
            #expect(try await eventually { try await payee.call("peer", ["id": hostileID])["state"] == "banned" })
            let banned = try await payee.call("peer", ["id": hostileID])
            #expect(banned["violations"] == 3, "\(banned)")
            #expect(banned["banReason"]?.stringValue?.contains("3 violations within 600 s") == true, "\(banned)")

            let payerID = JSONValue.string(payer.started.id.description), payeeID = JSONValue.string(payee.started.id.description)
            let honest = try await payee.call("peer", ["id": payerID])
            #expect(honest["state"] == "connected" && honest["violations"] == 0, "\(honest)")
            // Counters of the honest exchange: what one side sent is what the other received.
            #expect(try await eventually {
                let atPayee = try await payee.call("peer", ["id": payerID]), atPayer = try await payer.call("peer", ["id": payeeID])
                return atPayee["messagesIn"] == atPayer["messagesOut"] && atPayee["messagesOut"] == atPayer["messagesIn"]
            })
            let atPayee = try await payee.call("peer", ["id": payerID])
            // At least the open and the 50 vouchers in; acks out (one may acknowledge several vouchers).
            #expect((atPayee["messagesIn"]?.intValue ?? 0) >= 51 && (atPayee["messagesOut"]?.intValue ?? 0) >= 1, "\(atPayee)")
            #expect(try await payee.call("metrics")["violationsReported"] == 3)
            await hostile.close()
            await payer.stop()
            await payee.stop()
        }
    }

    /// Malformed frames (a valid length prefix around bytes that are not msgpack) count too.
    @Test func malformedFramesCountAgainstThePeer() async throws {
        try await withTimeout(120) {
            let payee = try await RunningNode.start()
            defer { removeDirectory(payee.directory) }
            let hostile = try await HostilePayer.connect(to: payee)
            var garbage = ByteBuffer()
            for _ in 0..<3 {
                garbage.writeInteger(UInt32(4))
                garbage.writeBytes([0xc1, 0xc1, 0xc1, 0xc1]) // 0xc1 is never valid msgpack
            }
            try await hostile.stream.write(garbage)
            let hostileID = JSONValue.string(hostile.key.address.description)
            #expect(try await eventually { try await payee.call("peer", ["id": hostileID])["state"] == "banned" })
            let banned = try await payee.call("peer", ["id": hostileID])
            #expect(banned["violations"] == 3 && banned["messagesIn"] == 3, "\(banned)")
            await hostile.close()
            await payee.stop()
        }
    }
}
