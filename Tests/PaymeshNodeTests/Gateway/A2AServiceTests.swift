import Foundation
import NIOPosix
import PaymeshCrypto
@testable import PaymeshDaemon
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshPay402
import PaymeshTestSupport
import Logging
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

    /// A buyer (node 0) with a channel of 1,000 to the seller (node 1), a test upstream and an empty
    /// service catalog; the upstream is stopped after `body`.
    static func withSeller(test: String = #function,
                           _ body: @escaping @Sendable (TestNetwork, ChannelID, ServiceCatalog, TestUpstream) async throws -> Void) async throws {
        let upstream = try await TestUpstream.start()
        try await withTestNetwork(2, test: test) { net in
            try await net.connect(0, 1)
            try await net[0].fund(1_000)
            let channel = try await net[0].openChannel(to: net[1], deposit: 1_000)
            try await body(net, channel, try ServiceCatalog(directory: temporaryDirectory(), gossip: nil), upstream)
        }
        await upstream.stop()
    }

    static func service(_ catalog: ServiceCatalog, _ net: TestNetwork, files: A2ATaskFiles, seed: UInt64) -> A2AService {
        A2AService(catalog: catalog, payments: net[1].payments, payee: net[1].id, group: MultiThreadedEventLoopGroup.singleton,
                   clock: net.clock, random: NodeRandom(SplitMix64(seed: seed)), version: "test", files: files,
                   logger: Logger(label: "a2a-test"))
    }

    static func voucher(_ channel: ChannelID, _ nonce: UInt64, _ amount: UInt128, task: String, key: IdentityKey) throws -> PaymentUpdate {
        let unsigned = try PaymentUpdate(channelID: channel, nonce: nonce, amount: Amount(amount), timestamp: 1_767_225_600_000,
                                         taskID: task, signature: Signature65([UInt8](repeating: 1, count: 64) + [27]))
        return try unsigned.signed(with: key, domain: SigningDomain(chainID: 0))
    }

    static func requirements(_ payee: EthereumAddress) -> PaymentRequirements {
        .channel(price: 250, asset: "USDC", decimals: 6, unit: "call", payee: payee, chainID: 0, resource: "/echo")
    }

    /// The `x402.payment.payload` object of a voucher.
    static func payload(_ voucher: PaymentUpdate, payee: EthereumAddress) throws -> [String: Any] {
        let header = ChannelSchemeProof.xPayment(voucher, paying: requirements(payee)).value
        return try json(Array(try #require(Data(base64Encoded: header))))
    }

    static func pay(_ service: A2AService, _ payload: [String: Any], task: String) async throws -> (state: String?, meta: [String: Any]) {
        let body = request(["taskId": task, "metadata": ["x402.payment.status": "payment-submitted", "x402.payment.payload": payload]])
        return status(try json(await service.handle(body, extensionActivated: true)))
    }

    static func get(_ service: A2AService, _ task: String) async throws -> [String: Any] {
        let body: [String: Any] = ["jsonrpc": "2.0", "id": 2, "method": "tasks/get", "params": ["id": task]]
        return try json(await service.handle(Array(try JSONSerialization.data(withJSONObject: body)), extensionActivated: false))
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
            let service = try Self.service(catalog, net, files: A2ATaskFiles(dataDirectory: temporaryDirectory()), seed: 1)
            let opened = try Self.json(await service.handle(Self.request([:]), extensionActivated: true))
            let task = try #require((opened["result"] as? [String: Any])?["id"] as? String)
            #expect(Self.status(opened).state == "input-required")

            func voucher(_ nonce: UInt64, _ amount: UInt128, key: IdentityKey? = nil) throws -> [String: Any] {
                try Self.payload(Self.voucher(channel, nonce, amount, task: task, key: key ?? net[0].key), payee: net[1].id)
            }
            func pay(_ payload: [String: Any], task id: String? = nil) async throws -> (state: String?, meta: [String: Any]) {
                try await Self.pay(service, payload, task: id ?? task)
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

    /// Specs/a2a.md §4: a restarted service (same task records, same payments service) answers
    /// `tasks/get` for a paid task as before; a task whose voucher was stored but whose skill did
    /// not answer ends `failed` with the receipt rebuilt from the channel (the skill is not run
    /// again); a task whose voucher never reached the channel waits for a payment and is paid once.
    @Test func aRestartedServiceKeepsPaidTasksAndResolvesInterruptedOnes() async throws {
        try await Self.withSeller { net, channel, catalog, upstream in
            _ = try await catalog.add(SoldService(name: "echo", upstream: "http://127.0.0.1:\(upstream.port)/api", price: 250, unit: .call,
                                                  asset: TestNetwork.usdc, description: "echo"))
            let dataDirectory = temporaryDirectory()
            let files = try A2ATaskFiles(dataDirectory: dataDirectory)
            let first = Self.service(catalog, net, files: files, seed: 1)
            let opened = try Self.json(await first.handle(Self.request([:]), extensionActivated: true))
            let done = try #require((opened["result"] as? [String: Any])?["id"] as? String)
            #expect(try FileManager.default.contentsOfDirectory(atPath: files.directory).isEmpty, "an unpaid task is not written")
            let a = try await Self.pay(first, try Self.payload(Self.voucher(channel, 1, 250, task: done, key: net[0].key), payee: net[1].id),
                                       task: done)
            #expect(a.state == "completed" && upstream.calls == 1)
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: files.directory + "/\(done).json")[.posixPermissions] as? Int)
            let dirMode = try #require(try FileManager.default.attributesOfItem(atPath: files.directory)[.posixPermissions] as? Int)
            #expect(mode == 0o600 && dirMode == 0o700)

            // Two tasks interrupted by a kill -9, recorded as the service records them: B's voucher
            // reached the channel (the skill never answered), C's never did.
            let requirements = Self.requirements(net[1].id)
            let skill = A2ASkill(name: "echo", description: "echo", requirements: requirements, decimals: 6)
            var crashed = A2AEndpoint()
            var pendings: [A2AEndpoint.PendingPayment] = []
            for (id, nonce, amount) in [(String(repeating: "b", count: 32), UInt64(2), UInt128(500)), (String(repeating: "c", count: 32), 3, 750)] {
                _ = crashed.onRequest(Self.request([:]), extensionActivated: true, skills: [skill], freshID: id, now: 1)
                let body = Self.request(["taskId": id, "metadata": ["x402.payment.payload": try Self.payload(
                    Self.voucher(channel, nonce, amount, task: id, key: net[0].key), payee: net[1].id)]])
                guard case .pay(let pending) = crashed.onRequest(body, extensionActivated: true, skills: [skill], freshID: "x", now: 2) else {
                    Issue.record("a payload goes to verification")
                    return
                }
                try files.save(id, try #require(crashed.record(id)))
                pendings.append(pending)
            }
            _ = try await net[1].payments.acceptHTTPPayment(pendings[0].proof, requirements: requirements)
            let (b, c) = (pendings[0].task.id, pendings[1].task.id)

            let second = Self.service(catalog, net, files: files, seed: 2)
            try await second.recover()
            let kept = try await Self.get(second, done)
            #expect(Self.status(kept).state == "completed")
            #expect((Self.status(kept).meta["x402.payment.receipts"] as? [[String: Any]])?.first?["amount"] as? String == "250")
            let failed = Self.status(try await Self.get(second, b))
            #expect(failed.state == "failed" && failed.meta["x402.payment.status"] as? String == "payment-completed")
            let receipt = try #require((failed.meta["x402.payment.receipts"] as? [[String: Any]])?.first)
            #expect(receipt["amount"] as? String == "250" && (receipt["extra"] as? [String: Any])?["nonce"] as? String == "2")
            #expect((receipt["extra"] as? [String: Any])?["cumulative"] as? String == "500")
            let waiting = Self.status(try await Self.get(second, c))
            #expect(waiting.state == "input-required" && waiting.meta["paymesh.error.code"] as? String == "1502")
            #expect(!FileManager.default.fileExists(atPath: files.directory + "/\(c).json"))
            #expect(upstream.calls == 1, "an interrupted skill is not run again")

            // B's payload again: refused (1461), nothing paid. C's payload: paid once, the skill runs.
            let again = try Self.json(await second.handle(Self.request(["taskId": b, "metadata": ["x402.payment.payload": try Self.payload(
                Self.voucher(channel, 2, 500, task: b, key: net[0].key), payee: net[1].id)]]), extensionActivated: true))
            #expect(((again["error"] as? [String: Any])?["data"] as? [String: Any])?["paymeshCode"] as? Int == 1461)
            let paidC = try await Self.pay(second, try Self.payload(Self.voucher(channel, 3, 750, task: c, key: net[0].key), payee: net[1].id),
                                           task: c)
            #expect(paidC.state == "completed" && upstream.calls == 2)
            let latest = await net[1].payments.view(channel)?.snapshot.latestVoucher
            #expect(latest?.nonce == 3 && latest?.amount.atomicUnits == 750)

            // A third start reads the same outcomes back and changes nothing.
            let third = Self.service(catalog, net, files: files, seed: 3)
            try await third.recover()
            #expect(Self.status(try await Self.get(third, b)).state == "failed")
            #expect(Self.status(try await Self.get(third, c)).state == "completed")
            #expect(upstream.calls == 2)
        }
    }

    /// Capabilities (Specs/http402.md §10.1): a skill runs as a POST, so a service that does not
    /// declare POST is no skill (not in the card; naming it is 1462), and a task whose service stops
    /// declaring POST before its payment is refused with 1325 — the voucher not taken, the upstream untouched.
    @Test func aServiceWithoutPOSTIsNoSkillAndItsPendingTaskTakesNoPayment() async throws {
        try await Self.withSeller { net, channel, catalog, upstream in
            func sell(_ name: String, _ capabilities: [String]) async throws {
                _ = try await catalog.add(SoldService(name: name, upstream: "http://127.0.0.1:\(upstream.port)/api", price: 250, unit: .call,
                                                      asset: TestNetwork.usdc, description: name, capabilities: capabilities))
            }
            try await sell("echo", [])
            try await sell("reads", ["GET", "HEAD"])
            let service = try Self.service(catalog, net, files: A2ATaskFiles(dataDirectory: temporaryDirectory()), seed: 2)
            let card = try Self.json(await service.card())
            #expect((card["skills"] as? [[String: Any]])?.compactMap { $0["id"] as? String } == ["echo"])
            let named = try Self.json(await service.handle(Self.request(["metadata": ["paymesh.skill": "reads"]]), extensionActivated: true))
            let error = try #require(named["error"] as? [String: Any])
            #expect(error["code"] as? Int == -32602 && "\(error)".contains("1462"), "\(error)")

            let opened = try Self.json(await service.handle(Self.request(["metadata": ["paymesh.skill": "echo"]]), extensionActivated: true))
            let task = try #require((opened["result"] as? [String: Any])?["id"] as? String)
            try await sell("echo", ["GET"])  // echo stops taking POST before the task is paid
            let payload = try Self.payload(Self.voucher(channel, 1, 250, task: task, key: net[0].key), payee: net[1].id)
            let refused = try await Self.pay(service, payload, task: task)
            #expect(refused.meta["x402.payment.status"] as? String == "payment-failed")
            #expect(refused.meta["paymesh.error.code"] as? String == "1325", "\(refused.meta)")
            #expect(await net[1].payments.view(channel)?.snapshot.latestVoucher == nil, "the voucher was not taken")
            #expect(upstream.calls == 0)
        }
    }
}
