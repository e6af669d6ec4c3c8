import Foundation
import PaymeshConsole
import PaymeshCrypto
import PaymeshGossip
import PaymeshHostile
import PaymeshMessages
import PaymeshMux
import PaymeshNode
import PaymeshOnion
import PaymeshTestSupport
import Testing

/// Hostile peers at wire level against a real node in this process on loopback: the inputs the
/// gossip sync (Specs/gossip.md §8.5) and the final hop of a routed payment (Specs/channels.md
/// §12) accept, sent by `PaymeshHostile` over Noise + yamux as an attacker would, not through the
/// sans-IO machines. Each test asserts on what the node reports (counters, bans, invoice state,
/// the message it answers with).
@Suite(.serialized) struct HostileWireTests {
    static let gossipProtocol = "/paymesh/gossip/1"

    /// An attacker that speaks payments (every version) and gossip.
    static func identity() throws -> HostileIdentity {
        try HostileIdentity(features: ["payments/1", "payments/2", "payments/3", "gossip/1"])
    }

    /// The next gossip frame the node sends us that `match` accepts (others are skipped).
    static func nextGossip(_ c: HostileConnection, timeout: Double = 20,
                           _ match: (GossipFrame) -> Bool) throws -> GossipFrame? {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            guard let payload = try c.nextRawFrame(protocol: gossipProtocol, timeout: deadline.timeIntervalSinceNow) else { return nil }
            if let frame = try? GossipFrame(payload: payload), match(frame) { return frame }
        }
        return nil
    }

    /// Opens our gossip stream, subscribes to every topic and waits for the node's SYNC_REQUEST.
    static func joinGossip(_ c: HostileConnection) throws -> UInt32 {
        let stream = try c.openStream(try StreamProtocolID(gossipProtocol))
        try c.sendFrames(GossipTopic.all.map { GossipFrame.subscribe($0).payload() }, on: stream)
        let request = try nextGossip(c) { if case .syncRequest = $0 { true } else { false } }
        guard request != nil else { throw HostileError(.timeout, "the node sent no SYNC_REQUEST") }
        return stream
    }

    /// A node announcement of `key`'s node, signed by it.
    static func announcement(_ key: IdentityKey, alias: String, timestamp: UInt64 = HostileCraft.nowMillis()) throws -> GossipMessage {
        let payload = GossipPayload.node(try NodeAnnouncement(alias: alias, addresses: [], features: ["gossip/1"], onionKey: key.publicKey))
        return try GossipMessage.sign(payload, timestamp: timestamp, with: key)
    }

    /// The first non-nil value of `body` within `seconds` (polled), or nil.
    static func eventuallyValue<T: Sendable>(_ seconds: Double, _ body: @Sendable () async throws -> T?) async throws -> T? {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while ContinuousClock.now < deadline {
            if let v = try await body() { return v }
            try await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    static func gossipStatus(_ node: RunningNode) async throws -> JSONValue { try await node.call("gossip.status") }

    static func dropped(_ status: JSONValue, _ reason: GossipDropReason) -> Int {
        Int(status["counters"]?["dropped"]?[reason.rawValue]?.intValue ?? 0)
    }

    static func graphNodes(_ node: RunningNode) async throws -> Set<String> {
        Set((try await node.call("graph.nodes")["nodes"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue?.lowercased() })
    }

    // MARK: Graph sync

    /// A second SYNC_REQUEST within 60 s gets no second answer; SYNC_MESSAGE and SYNC_END the node
    /// did not ask for are dropped and counted; an unsolicited (even validly signed) message never
    /// reaches the graph.
    @Test func syncRequestsAreRateLimitedAndUnsolicitedSyncFramesAreDropped() async throws {
        let node = try await RunningNode.start()
        defer { removeDirectory(node.directory) }
        let port = node.started.listen.port
        let attacker = try Self.identity()
        let ends = try await offload { () throws -> Int in
            let c = try HostileConnection.connect(port: port, identity: attacker)
            defer { c.close() }
            let stream = try Self.joinGossip(c)
            // Our answer to its request: complete at once (nothing to sync), then a second END.
            try c.sendFrames([GossipFrame.syncEnd(count: 0).payload(), GossipFrame.syncEnd(count: 0).payload()], on: stream)
            // A validly signed announcement of ours, as a SYNC_MESSAGE nobody asked for.
            let mine = try Self.announcement(attacker.key, alias: "unsolicited")
            try c.sendFrames([GossipFrame.syncMessage(mine).payload()], on: stream)
            // Two requests back to back: one answer.
            try c.sendFrames([GossipFrame.syncRequest(limit: 100).payload(), GossipFrame.syncRequest(limit: 100).payload()], on: stream)
            var ends = 0
            while try Self.nextGossip(c, timeout: ends == 0 ? 20 : 2, { if case .syncEnd = $0 { true } else { false } }) != nil { ends += 1 }
            return ends
        }
        #expect(ends == 1)
        #expect(try await eventually(20) {
            let s = try await Self.gossipStatus(node)
            return Self.dropped(s, .syncRateLimited) == 1 && Self.dropped(s, .unsolicitedSync) == 2
                && s["sync"]?["requestsServed"]?.intValue == 1 && s["sync"]?["completed"]?.intValue == 1
        })
        let status = try await Self.gossipStatus(node)
        #expect(Self.dropped(status, .syncRateLimited) == 1, "\(status)")
        #expect(!(try await Self.graphNodes(node)).contains(attacker.address.description.lowercased()))
        await node.stop()
    }

    /// SYNC_MESSAGEs with forged signatures in answer to the node's own request: none reaches the
    /// graph, each is reported as misbehaviour, and the third bans the attacker (the default
    /// policy: 3 violations in 10 minutes) and closes its connection.
    @Test func forgedSyncMessagesGetTheSenderBanned() async throws {
        let node = try await RunningNode.start()
        defer { removeDirectory(node.directory) }
        let port = node.started.listen.port
        let attacker = try Self.identity()
        let victim = IdentityKey.generate()
        let closed = try await offload { () throws -> Bool in
            let c = try HostileConnection.connect(port: port, identity: attacker)
            defer { c.close() }
            let stream = try Self.joinGossip(c)
            // Announcements claiming to come from `victim`, signed by the attacker: the body names
            // the victim as origin, the signature recovers to the attacker.
            var forged: [[UInt8]] = []
            for i in 0..<3 {
                let honest = try Self.announcement(victim, alias: "forged-\(i)", timestamp: HostileCraft.nowMillis() - UInt64(i))
                let attackerSigned = try GossipMessage.sign(.node(try NodeAnnouncement(alias: "forged-\(i)", addresses: [], features: [],
                                                                                           onionKey: victim.publicKey)),
                                                            timestamp: HostileCraft.nowMillis() - UInt64(i), with: attacker.key)
                forged.append(GossipFrame.syncMessage(try GossipMessage(body: honest.body, signature: attackerSigned.signature)).payload())
            }
            try c.sendFrames(forged, on: stream)
            return c.waitUntilClosed(timeout: 30)
        }
        #expect(closed, "the node closed the attacker's connection")
        #expect(try await eventually(20) { try await node.call("getinfo")["peers"]?["banned"]?.intValue == 1 })
        let s = try await Self.gossipStatus(node)
        #expect((s["driver"]?["misbehaviourReported"]?.intValue ?? 0) >= 3, "\(s)")
        #expect(s["sync"]?["delivered"]?.intValue == 0)
        #expect(!(try await Self.graphNodes(node)).contains(victim.address.description.lowercased()))
        await node.stop()
    }

    // MARK: The final hop of a routed payment

    /// The node's onion key, as its own graph announces it (Specs/gossip.md §7.3).
    static func onionKey(_ node: RunningNode) async throws -> Secp256k1.PublicKey {
        let me = node.started.id.description.lowercased()
        let hex = try await eventuallyValue(20) {
            (try await node.call("graph.nodes")["nodes"]?.arrayValue ?? [])
                .first { $0["id"]?.stringValue?.lowercased() == me }?["onionKey"]?.stringValue
        }
        let bytes = try #require(hex.flatMap { [UInt8](hex: $0) }, "the node announces itself with an onion key")
        return try Secp256k1.PublicKey(serialized: bytes)
    }

    /// HTLC_PROPOSE for `invoiceHash` as the only HTLC on a fresh channel, final hop = the node.
    static func propose(channel: ChannelID, hash: Hash32, amount: UInt128, nodeKey: Secp256k1.PublicKey,
                        payer: HostileIdentity, id: UInt8) throws -> HTLCPropose {
        let expiry = HostileCraft.nowMillis() + 600_000
        let payload = HopPayload.final(.init(amount: Amount(amount), expiry: expiry, totalAmount: Amount(amount), paymentHash: hash))
        let onion = try OnionPacket.build(sessionKey: try Secp256k1.PrivateKey(rawRepresentation: [UInt8](repeating: id, count: 32)),
                                          hops: [OnionHop(nodeKey: nodeKey, payload: payload.encoded())], associatedData: hash.bytes)
        var m = try HTLCPropose(channelID: channel, htlcID: try HTLCID([UInt8](repeating: id, count: 16)), paymentHash: hash,
                                amount: Amount(amount), expiry: expiry, onion: onion.packet.bytes, nonce: 1,
                                voucherAmount: Amount(amount), locks: [], timestamp: HostileCraft.nowMillis(), signature: .unsigned)
        m.signature = try m.conditionalVoucher(otherLocks: []).sign(with: payer.key, domain: SigningDomain(chainID: 0), type: .htlcPropose)
        return m
    }

    enum Answer: Equatable { case cancelled(UInt16), fulfilled(Hash32), none }

    /// Opens a channel in `asset` to the node, proposes one HTLC on it and returns the answer.
    static func payOverOwnChannel(_ c: HostileConnection, stream: UInt32, asset: String, amount: UInt128, hash: Hash32,
                                  nodeKey: Secp256k1.PublicKey, id: UInt8) throws -> Answer {
        let open = try HostileCraft.open(from: c.identity, to: c.peer!.address, deposit: 1_000, asset: asset)
        try c.send([.paymentOpen(open)], on: stream)
        guard try c.ack(for: open.channelID, nonce: 0, timeout: 20)?.status == .accepted else { return .none }
        let p = try propose(channel: open.channelID, hash: hash, amount: amount, nodeKey: nodeKey, payer: c.identity, id: id)
        try c.send([.htlcPropose(p)], on: stream)
        let reply = try c.nextMessage(timeout: 20) {
            switch $0 {
            case .htlcCancel(let x): x.channelID == open.channelID
            case .htlcFulfill(let x): x.channelID == open.channelID
            default: false
            }
        }
        switch reply {
        case .htlcCancel(let x)?: return .cancelled(x.reason.rawValue)
        case .htlcFulfill(let x)?: return .fulfilled(x.preimage)
        default: return .none
        }
    }

    /// An invoice for 100 USDC units: an HTLC for its hash that pays 60, or pays 100 in another
    /// asset, is cancelled with 1405 and the invoice stays open; the honest HTLC on a third channel
    /// is fulfilled with the preimage of that hash and marks it paid (so the two refusals are not
    /// a malformed message's).
    @Test func htlcForAnInvoiceWithTheWrongAmountOrAssetIsCancelled() async throws {
        let node = try await RunningNode.start()
        defer { removeDirectory(node.directory) }
        let port = node.started.listen.port
        let invoice = try await node.call("invoice.create", ["amount": "100", "asset": "USDC", "decimals": 6])
        let hash = try Hash32(hex: try #require(invoice["paymentHash"]?.stringValue))
        _ = try await node.call("ledger.fund", ["asset": "EURC", "decimals": 6, "amount": "1"]) // EURC known to the node
        let nodeKey = try await Self.onionKey(node)
        let attacker = try Self.identity()
        let (under, otherAsset) = try await offload { () throws -> (Answer, Answer) in
            let c = try HostileConnection.connect(port: port, identity: attacker)
            defer { c.close() }
            let stream = try c.openStream(try StreamProtocolID("/paymesh/payments/3"))
            let under = try Self.payOverOwnChannel(c, stream: stream, asset: "USDC", amount: 60, hash: hash, nodeKey: nodeKey, id: 1)
            let other = try Self.payOverOwnChannel(c, stream: stream, asset: "EURC", amount: 100, hash: hash, nodeKey: nodeKey, id: 2)
            return (under, other)
        }
        #expect(under == .cancelled(1405))
        #expect(otherAsset == .cancelled(1405))
        let listed = try await node.call("invoice.list")["invoices"]?.arrayValue?.first
        #expect(listed?["status"] == "open" && listed?["paidAmount"] == .null, "\(String(describing: listed))")

        let honest = try await offload { () throws -> Answer in
            let c = try HostileConnection.connect(port: port, identity: attacker)
            defer { c.close() }
            let stream = try c.openStream(try StreamProtocolID("/paymesh/payments/3"))
            return try Self.payOverOwnChannel(c, stream: stream, asset: "USDC", amount: 100, hash: hash, nodeKey: nodeKey, id: 3)
        }
        guard case .fulfilled(let preimage) = honest else {
            Issue.record("the honest HTLC was not fulfilled: \(honest)")
            await node.stop()
            return
        }
        #expect(try Hash32(SHA256.hash(preimage.bytes)) == hash)
        #expect(try await node.call("invoice.list")["invoices"]?.arrayValue?.first?["status"] == "paid")
        await node.stop()
    }
}
