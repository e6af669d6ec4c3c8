import Foundation
import PaymeshConsole
import PaymeshCrypto
import PaymeshDaemon
import PaymeshMessages
import PaymeshHostile
import PaymeshNode
import PaymeshPay402
import PaymeshTestSupport
import Testing

/// The HTTP 402 gateway on a real node's loopback listener (Specs/http402.md §10): a service added
/// on the console, a tiny upstream server, a second real node that opens a channel to the gateway
/// node; vouchers of that channel, signed with the payer's key, presented as x402 proofs.
@Suite struct GatewayTests {
    static let price: UInt128 = 250

    /// Everything a test needs: the two nodes, the upstream, the channel and the payer's key.
    struct Setup {
        let gateway: RunningNode
        let payer: RunningNode
        let upstream: TestUpstream
        let channel: ChannelID
        let payerKey: IdentityKey
        let http: PeerEndpoint

        var requirements: PaymentRequirements {
            PaymentRequirements.channel(price: GatewayTests.price, asset: "USDC", decimals: 6, unit: "call", payee: gateway.started.id,
                                        chainID: 0, resource: "http://\(http)/echo", description: "echo")
        }

        func voucher(nonce: UInt64, amount: UInt128, key: IdentityKey? = nil, channel: ChannelID? = nil) throws -> PaymentUpdate {
            let unsigned = try PaymentUpdate(channelID: channel ?? self.channel, nonce: nonce, amount: Amount(amount),
                                             timestamp: 1_767_225_600_000 + nonce, taskID: "request-\(nonce)",
                                             signature: Signature65([UInt8](repeating: 1, count: 64) + [27]))
            return try unsigned.signed(with: key ?? payerKey, domain: SigningDomain(chainID: 0))
        }

        /// On a thread of its own (`offload`): a blocking read must not hold one of the cooperative
        /// pool's threads, which the node under test needs to answer.
        func get(_ path: String, _ proof: HTTPHeaderField? = nil) async throws -> HTTPGet.Reply {
            let http = self.http, headers = proof.map { [($0.name, $0.value)] } ?? []
            return try await offload("http-get") { try HTTPGet.fetch(http, path, headers: headers) }
        }
    }

    static func setUp() async throws -> Setup {
        let upstream = try await TestUpstream.start()
        let gateway = try await RunningNode.start { $0.http = PeerEndpoint(host: "127.0.0.1", port: 0) }
        let payer = try await RunningNode.start()
        let http = try #require(gateway.started.http)
        let added = try await gateway.call("service.add", [
            "name": "echo", "upstream": .string("http://127.0.0.1:\(upstream.port)/api"), "price": .string(String(price)),
            "unit": "call", "asset": "USDC", "decimals": 6, "description": "echo"])
        #expect(added["url"] == .string("http://\(http)/echo"))
        _ = try await payer.call("connect", ["host": "127.0.0.1", "port": .int(Int64(gateway.started.listen.port))])
        _ = try await payer.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000000"])
        let opened = try await payer.call("channel.open", ["peer": .string(gateway.started.id.description), "asset": "USDC",
                                                           "deposit": "10000"])
        let channel = try ChannelID(hex: try #require(opened["channel"]?.stringValue))
        let payerKey = try IdentityStore(directory: payer.directory).loadOrCreate().key
        return Setup(gateway: gateway, payer: payer, upstream: upstream, channel: channel, payerKey: payerKey, http: http)
    }

    static func decodeHeader(_ value: String?) throws -> [String: Any] {
        let text = try #require(value)
        let data = try #require(Data(base64Encoded: text))
        return try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    @Test func unpaidPaidAndRefusedRequests() async throws {
        let s = try await Self.setUp()
        // No proof: 402 with the x402 v1 body, the v2 PAYMENT-REQUIRED header and CORS; upstream untouched.
        let unpaid = try await s.get("/echo/hello")
        #expect(unpaid.status == 402)
        #expect(unpaid.headers["paymesh-error-code"] == "1301")
        #expect(unpaid.headers["access-control-allow-origin"] == "*")
        let body = try #require(try JSONSerialization.jsonObject(with: Data(unpaid.body.utf8)) as? [String: Any])
        #expect(body["x402Version"] as? Int == 1)
        let accepts = try #require(body["accepts"] as? [[String: Any]])
        #expect(accepts.first?["scheme"] as? String == "paymesh-channel")
        #expect(accepts.first?["maxAmountRequired"] as? String == "250")
        #expect(accepts.first?["payTo"] as? String == s.gateway.started.id.description)
        let v2 = try Self.decodeHeader(unpaid.headers["payment-required"])
        #expect(v2["x402Version"] as? Int == 2)
        #expect(s.upstream.calls == 0)

        // A v1 proof paying the price: the upstream's answer and X-PAYMENT-RESPONSE.
        let first = try s.voucher(nonce: 1, amount: 250)
        let paid = try await s.get("/echo/hello?x=1", ChannelSchemeProof.xPayment(first, paying: s.requirements))
        #expect(paid.status == 200)
        #expect(paid.body == "upstream GET /api/hello?x=1")
        let receipt = try Self.decodeHeader(paid.headers["x-payment-response"])
        #expect(receipt["success"] as? Bool == true)
        #expect(receipt["amount"] as? String == "250")
        #expect((receipt["extra"] as? [String: Any])?["nonce"] as? String == "1")
        #expect((receipt["extra"] as? [String: Any])?["receipt"] != nil, "a task id gets the payee's signed receipt")
        #expect(s.upstream.calls == 1)

        // A v2 proof: PAYMENT-RESPONSE.
        let second = try s.voucher(nonce: 2, amount: 500)
        let paid2 = try await s.get("/echo", ChannelSchemeProof.paymentSignature(second, paying: s.requirements))
        #expect(paid2.status == 200)
        #expect(paid2.body == "upstream GET /api/")
        #expect(try Self.decodeHeader(paid2.headers["payment-response"])["amount"] as? String == "250")
        #expect(s.upstream.calls == 2)

        // Every bad proof: 402 with its code, and the upstream is never called.
        let stranger = IdentityKey.generate()
        var wrongPayee = s.requirements
        wrongPayee.payTo = stranger.address
        let refusals: [(String, HTTPHeaderField, String)] = [
            ("replayed", ChannelSchemeProof.xPayment(second, paying: s.requirements), "1323"),
            ("older nonce", ChannelSchemeProof.xPayment(first, paying: s.requirements), "1323"),
            ("underpaid", ChannelSchemeProof.xPayment(try s.voucher(nonce: 3, amount: 600), paying: s.requirements), "1302"),
            ("forged", ChannelSchemeProof.xPayment(try s.voucher(nonce: 3, amount: 750, key: stranger), paying: s.requirements), "1101"),
            ("wrong payee", ChannelSchemeProof.paymentSignature(try s.voucher(nonce: 3, amount: 750), paying: wrongPayee), "1322"),
            ("unknown channel", ChannelSchemeProof.xPayment(try s.voucher(nonce: 3, amount: 750, channel: try ChannelID([UInt8](repeating: 7, count: 32))),
                                                            paying: s.requirements), "1000"),
            ("above the deposit", ChannelSchemeProof.xPayment(try s.voucher(nonce: 3, amount: 10_001), paying: s.requirements), "1100"),
            ("not base64", HTTPHeaderField("X-PAYMENT", "%%%"), "1320"),
        ]
        for (what, proof, code) in refusals {
            let reply = try await s.get("/echo/hello", proof)
            #expect(reply.status == 402, "\(what)")
            #expect(reply.headers["paymesh-error-code"] == code, "\(what): \(reply.body)")
        }
        #expect(s.upstream.calls == 2)
        #expect(try await s.get("/nothing-here").status == 404)

        // Durable: after a restart of the gateway node, the service is still sold and the voucher
        // it accepted is still spent.
        let directory = s.gateway.directory
        await s.gateway.stop()
        let again = try await RunningNode.start(directory: directory) { $0.http = PeerEndpoint(host: "127.0.0.1", port: 0) }
        let http = try #require(again.started.http)
        let listed = try await again.call("service.list")
        #expect(listed["services"]?.arrayValue?.first?["name"] == "echo")
        let replayHeaders = [(Pay402Header.xPayment, ChannelSchemeProof.xPayment(second, paying: s.requirements).value)]
        let replay = try await offload("http-get") { try HTTPGet.fetch(http, "/echo", headers: replayHeaders) }
        #expect(replay.status == 402)
        #expect(replay.headers["paymesh-error-code"] == "1323")
        #expect(s.upstream.calls == 2)

        // The x402 SDK (PyPI) reads the live 402 answer.
        let run = try await runPythonScript("scripts/http402/check_live_gateway.py", ["http://\(http)/echo/hello"])
        let stdout = run.stdout, stderr = run.stderr
        #expect(run.status == 0, "python exited \(run.status)\n\(stdout)\n\(stderr)")
        #expect(stdout.contains("live gateway checks:"), "\(stdout)\n\(stderr)")
        #expect(s.upstream.calls == 2)

        await again.stop()
        await s.payer.stop()
        await s.upstream.stop()
    }

    @Test func serviceAddRefusesBadInput() async throws {
        let node = try await RunningNode.start()
        let base: [String: JSONValue] = ["name": "svc", "upstream": "http://127.0.0.1:9/x", "price": "5", "unit": "call",
                                         "asset": "USDC", "decimals": 6]
        let bad: [(String, JSONValue)] = [("name", "a/b"), ("name", "metrics"), ("upstream", "http://192.0.2.1:80/"),
                                          ("upstream", "https://127.0.0.1:80/"), ("upstream", "http://127.0.0.1/"),
                                          ("price", "0"), ("unit", "minute")]
        for (key, value) in bad {
            var params = base
            params[key] = value
            guard case .failure(let error) = try await node.callResult("service.add", params) else {
                Issue.record("service.add accepted \(key)=\(value)")
                continue
            }
            #expect(error.code == -32602, "\(key)=\(value)")
        }
        #expect(try await node.call("service.list")["services"] == [])
        #expect(try await node.call("service.add", base)["url"] == .null, "no HTTP listener: no URL")
        #expect(try await node.call("service.remove", ["name": "svc"])["removed"] == true)
        #expect(try await node.call("service.remove", ["name": "svc"])["removed"] == false)
        // Per second (Specs/http402.md §12.6): a price whose 60-second step overflows 2^128 − 1 is refused; 1 is fine.
        var seconds = base
        seconds["unit"] = "second"
        seconds["name"] = "secs"
        seconds["price"] = .string(String(UInt128.max / 59))
        guard case .failure(let overflow) = try await node.callResult("service.add", seconds) else {
            Issue.record("service.add accepted an overflowing per-second price")
            await node.stop()
            return
        }
        #expect(overflow.code == -32602)
        seconds["price"] = "1"
        guard case .success = try await node.callResult("service.add", seconds) else { Issue.record("service.add refused unit=second"); return }
        await node.stop()
    }
}
