import Foundation
import NIOPosix
import PaymeshCrypto
@testable import PaymeshDaemon
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshPay402
import PaymeshTestSupport
import Testing

/// The A2A driver over a real payments service (Specs/a2a.md §3.2) on the in-memory network: node 0
/// has a channel to node 1, which sells `echo` (a loopback upstream). Forged, underpaid, wrong-payee
/// and replayed payloads are refused by the channel engine exactly as at the gateway, the task
/// waits for a payment again and the upstream is never called; a good voucher completes the task.
@Suite struct A2AServiceTests {
    static func json(_ bytes: [UInt8]) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    static func request(_ message: [String: Any]) -> [UInt8] {
        let base: [String: Any] = ["role": "user", "messageId": UUID().uuidString, "kind": "message",
                                   "parts": [["kind": "text", "text": "hello"]]]
        let body: [String: Any] = ["jsonrpc": "2.0", "id": 1, "method": "message/send",
                                   "params": ["message": base.merging(message) { _, b in b }]]
        return Array(try! JSONSerialization.data(withJSONObject: body))
    }

    static func status(_ answer: [String: Any]) -> (state: String?, meta: [String: Any]) {
        let status = (answer["result"] as? [String: Any])?["status"] as? [String: Any]
        return (status?["state"] as? String, (status?["message"] as? [String: Any])?["metadata"] as? [String: Any] ?? [:])
    }

    @Test func forgedUnderpaidAndReplayedPayloadsAreRefusedBeforeTheSkillRuns() async throws {
        let upstream = try await TestUpstream.start()
        try await withTestNetwork(2) { net in
            try await net.connect(0, 1)
            try await net[0].fund(1_000)
            let channel = try await net[0].openChannel(to: net[1], deposit: 1_000)
            let directory = temporaryDirectory()
            let catalog = try ServiceCatalog(directory: directory, gossip: nil)
            _ = try await catalog.add(SoldService(name: "echo", upstream: "http://127.0.0.1:\(upstream.port)/api", price: 250, unit: .call,
                                                  asset: TestNetwork.usdc, description: "echo"))
            let service = A2AService(catalog: catalog, payments: net[1].payments, payee: net[1].id,
                                     group: MultiThreadedEventLoopGroup.singleton, clock: net.clock, random: NodeRandom(SplitMix64(seed: 1)),
                                     version: "test")
            let opened = try Self.json(await service.handle(Self.request([:]), extensionActivated: true))
            let task = try #require((opened["result"] as? [String: Any])?["id"] as? String)
            #expect(Self.status(opened).state == "input-required")

            func voucher(_ nonce: UInt64, _ amount: UInt128, key: IdentityKey? = nil) throws -> [String: Any] {
                let unsigned = try PaymentUpdate(channelID: channel, nonce: nonce, amount: Amount(amount), timestamp: 1_767_225_600_000,
                                                 taskID: task, signature: Signature65([UInt8](repeating: 1, count: 64) + [27]))
                let signed = try unsigned.signed(with: key ?? net[0].key, domain: SigningDomain(chainID: 0))
                let requirements = PaymentRequirements.channel(price: 250, asset: "USDC", decimals: 6, unit: "call", payee: net[1].id,
                                                               chainID: 0, resource: "/echo")
                let header = ChannelSchemeProof.xPayment(signed, paying: requirements).value
                return try Self.json(Array(try #require(Data(base64Encoded: header))))
            }
            func pay(_ payload: [String: Any], task id: String? = nil) async throws -> (state: String?, meta: [String: Any]) {
                let body = Self.request(["taskId": id ?? task, "metadata": ["x402.payment.status": "payment-submitted",
                                                                            "x402.payment.payload": payload]])
                return Self.status(try Self.json(await service.handle(body, extensionActivated: true)))
            }

            for (what, payload, code) in [("forged", try voucher(1, 250, key: IdentityKey.generate()), "1101"),
                                          ("underpaid", try voucher(1, 249), "1302"),
                                          ("above the deposit", try voucher(1, 1_001), "1100")] {
                let refused = try await pay(payload)
                #expect(refused.state == "input-required", "\(what)")
                #expect(refused.meta["x402.payment.status"] as? String == "payment-failed", "\(what)")
                #expect(refused.meta["paymesh.error.code"] as? String == code, "\(what): \(refused.meta)")
            }
            #expect(upstream.calls == 0)

            let good = try voucher(1, 250)
            let done = try await pay(good)
            #expect(done.state == "completed")
            let receipt = try #require((done.meta["x402.payment.receipts"] as? [[String: Any]])?.first)
            #expect(receipt["success"] as? Bool == true && receipt["amount"] as? String == "250")
            #expect(upstream.calls == 1)
            // Durable in the payee channel before the skill ran.
            #expect(await net[1].payments.view(channel)?.snapshot.latestVoucher?.nonce == 1)

            // The same voucher for a new task: a replay (1323), the upstream untouched.
            let second = try Self.json(await service.handle(Self.request([:]), extensionActivated: true))
            let secondID = try #require((second["result"] as? [String: Any])?["id"] as? String)
            let replay = try await pay(good, task: secondID)
            #expect(replay.meta["paymesh.error.code"] as? String == "1323" && replay.meta["x402.payment.error"] as? String == "DUPLICATE_NONCE")
            #expect(upstream.calls == 1)
        }
        await upstream.stop()
    }

    /// Capabilities (Specs/http402.md §10.1): a skill runs as a POST, so a service that does not
    /// declare POST is no skill (not in the card; naming it is 1462), and a task whose service stops
    /// declaring POST before its payment is refused with 1325 — the voucher not taken, the upstream untouched.
    @Test func aServiceWithoutPOSTIsNoSkillAndItsPendingTaskTakesNoPayment() async throws {
        let upstream = try await TestUpstream.start()
        try await withTestNetwork(2) { net in
            try await net.connect(0, 1)
            try await net[0].fund(1_000)
            let channel = try await net[0].openChannel(to: net[1], deposit: 1_000)
            let catalog = try ServiceCatalog(directory: temporaryDirectory(), gossip: nil)
            func sell(_ name: String, _ capabilities: [String]) async throws {
                _ = try await catalog.add(SoldService(name: name, upstream: "http://127.0.0.1:\(upstream.port)/api", price: 250, unit: .call,
                                                      asset: TestNetwork.usdc, description: name, capabilities: capabilities))
            }
            try await sell("echo", [])
            try await sell("reads", ["GET", "HEAD"])
            let service = A2AService(catalog: catalog, payments: net[1].payments, payee: net[1].id,
                                     group: MultiThreadedEventLoopGroup.singleton, clock: net.clock, random: NodeRandom(SplitMix64(seed: 2)),
                                     version: "test")
            let card = try Self.json(await service.card())
            #expect((card["skills"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["echo"])
            let named = try Self.json(await service.handle(Self.request(["metadata": ["paymesh.skill": "reads"]]), extensionActivated: true))
            let error = try #require(named["error"] as? [String: Any])
            #expect(error["code"] as? Int == -32602 && "\(error)".contains("1462"), "\(error)")

            let opened = try Self.json(await service.handle(Self.request(["metadata": ["paymesh.skill": "echo"]]), extensionActivated: true))
            let task = try #require((opened["result"] as? [String: Any])?["id"] as? String)
            try await sell("echo", ["GET"])  // echo stops taking POST before the task is paid
            let unsigned = try PaymentUpdate(channelID: channel, nonce: 1, amount: Amount(250), timestamp: 1_767_225_600_000,
                                             taskID: task, signature: Signature65([UInt8](repeating: 1, count: 64) + [27]))
            let signed = try unsigned.signed(with: net[0].key, domain: SigningDomain(chainID: 0))
            let requirements = PaymentRequirements.channel(price: 250, asset: "USDC", decimals: 6, unit: "call", payee: net[1].id,
                                                           chainID: 0, resource: "/echo")
            let payload = try Self.json(Array(try #require(Data(base64Encoded: ChannelSchemeProof.xPayment(signed, paying: requirements).value))))
            let body = Self.request(["taskId": task, "metadata": ["x402.payment.status": "payment-submitted", "x402.payment.payload": payload]])
            let refused = Self.status(try Self.json(await service.handle(body, extensionActivated: true)))
            #expect(refused.meta["x402.payment.status"] as? String == "payment-failed")
            #expect(refused.meta["paymesh.error.code"] as? String == "1325", "\(refused.meta)")
            #expect(await net[1].payments.view(channel)?.snapshot.latestVoucher == nil, "the voucher was not taken")
            #expect(upstream.calls == 0)
        }
        await upstream.stop()
    }
}
