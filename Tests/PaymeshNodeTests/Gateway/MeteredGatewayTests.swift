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

/// Metered services on a real gateway node (Specs/http402.md §12): `bytes` sells the upstream's
/// answer at 2 atomic units per byte (steps of 1,024 bytes = 2,048), `lines` at 30 per token (steps
/// of 16 newline-delimited tokens = 480). Hostile clients first: every refused proof or
/// continuation serves nothing and takes nothing; nothing beyond what is paid is ever served.
@Suite struct MeteredGatewayTests {
    static let bytePrice: UInt128 = 2
    static let tokenPrice: UInt128 = 30

    /// A gateway selling `services` (name, unit, price; per-second steps of `secondStep` s) and a payer with a channel to it.
    static func setUp(_ services: [(String, String, UInt128)] = [("bytes", "byte", bytePrice), ("lines", "token", tokenPrice)],
                      secondStep: UInt64 = 10) async throws -> GatewayTests.Setup {
        let upstream = try await TestUpstream.start()
        let gateway = try await RunningNode.start {
            $0.http = PeerEndpoint(host: "127.0.0.1", port: 0)
            $0.secondStep = secondStep
        }
        let payer = try await RunningNode.start()
        let http = try #require(gateway.started.http)
        for (name, unit, price) in services {
            _ = try await gateway.call("service.add", [
                "name": .string(name), "upstream": .string("http://127.0.0.1:\(upstream.port)/api"), "price": .string(String(price)),
                "unit": .string(unit), "asset": "USDC", "decimals": 6, "description": .string(name)])
        }
        _ = try await payer.call("connect", ["host": "127.0.0.1", "port": .int(Int64(gateway.started.listen.port))])
        _ = try await payer.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000000"])
        let opened = try await payer.call("channel.open", ["peer": .string(gateway.started.id.description), "asset": "USDC", "deposit": "10000"])
        let channel = try ChannelID(hex: try #require(opened["channel"]?.stringValue))
        let payerKey = try IdentityStore(directory: payer.directory).loadOrCreate().key
        return GatewayTests.Setup(gateway: gateway, payer: payer, upstream: upstream, channel: channel, payerKey: payerKey, http: http)
    }

    static func requirements(_ s: GatewayTests.Setup, unit: MeteredUnit, price: UInt128, service: String) -> PaymentRequirements {
        PaymentRequirements.channel(price: price * UInt128(unit.stepUnits), asset: "USDC", decimals: 6, unit: unit.rawValue,
                                    payee: s.gateway.started.id, chainID: 0, resource: "http://\(s.http)/\(service)", description: service,
                                    metered: (unit.stepUnits, price))
    }

    static func get(_ s: GatewayTests.Setup, _ path: String, _ headers: [HTTPHeaderField]) async throws -> HTTPGet.Reply {
        let http = s.http, pairs = headers.map { ($0.name, $0.value) }
        return try await offload("http-get") { try HTTPGet.fetch(http, path, headers: pairs) }
    }

    static func received(_ s: GatewayTests.Setup) async throws -> String? {
        try await s.gateway.call("channel.get", ["channel": .string(s.channel.description)])["paid"]?.stringValue
    }

    @Test func hostileClientsAreNeverServedBeyondWhatTheyPaid() async throws {
        let s = try await Self.setUp()
        let bytes = Self.requirements(s, unit: .byte, price: Self.bytePrice, service: "bytes")
        func pay(_ nonce: UInt64, _ amount: UInt128, key: IdentityKey? = nil) throws -> HTTPHeaderField {
            ChannelSchemeProof.xPayment(try s.voucher(nonce: nonce, amount: amount, key: key), paying: bytes)
        }
        let path = "/bytes/bytes/2500", full = TestUpstream.answer("GET", "/api/bytes/2500")

        // Unpaid: the first step's price, the unit, the step and the unit price; no L402 for a metered service.
        let unpaid = try await Self.get(s, path, [])
        #expect(unpaid.status == 402)
        let accepts = try #require((try JSONSerialization.jsonObject(with: Data(unpaid.body.utf8)) as? [String: Any])?["accepts"] as? [[String: Any]])
        #expect(accepts.first?["maxAmountRequired"] as? String == "2048")
        let extra = try #require(accepts.first?["extra"] as? [String: Any])
        #expect(extra["unit"] as? String == "byte" && extra["step"] as? String == "1024" && extra["unitPrice"] as? String == "2")
        #expect(unpaid.headers["www-authenticate"] == nil)

        // A voucher below the step, a forged voucher: refused before the upstream is called.
        #expect(try await Self.get(s, path, [try pay(1, 2_047)]).headers["paymesh-error-code"] == "1302")
        #expect(try await Self.get(s, path, [try pay(1, 2_048, key: IdentityKey.generate())]).headers["paymesh-error-code"] == "1101")
        #expect(s.upstream.calls == 0)
        #expect(try await Self.received(s) == "0")

        // The first step: 1,024 bytes of 2,500 (the upstream delivered more than paid: cut), and a continuation.
        let first = try await Self.get(s, path, [try pay(1, 2_048)])
        #expect(first.status == 206)
        #expect(first.body == String(full.prefix(1_024)))
        #expect(first.headers["paymesh-units"] == "1024" && first.headers["paymesh-units-from"] == "0" && first.headers["paymesh-units-total"] == "2500")
        #expect(first.headers["paymesh-upstream-status"] == "200")
        #expect(first.headers["paymesh-next-price"] == "2048")
        #expect(first.headers["x-payment-response"] != nil)
        let token = try #require(first.headers["paymesh-continue"])
        #expect(s.upstream.calls == 1)
        #expect(try await Self.received(s) == "2048")

        // A second channel of the same payer, to pay a continuation through the wrong channel.
        let opened = try await s.payer.call("channel.open", ["peer": .string(s.gateway.started.id.description), "asset": "USDC", "deposit": "10000"])
        let other = try ChannelID(hex: try #require(opened["channel"]?.stringValue))
        let otherVoucher = ChannelSchemeProof.xPayment(try s.voucher(nonce: 1, amount: 4_096, channel: other), paying: bytes)

        // Hostile continuations: an unknown token (the voucher is not even looked at: not taken), the
        // first step's voucher replayed for the second step, a voucher below the next step, the token
        // on another path, no proof. Each serves nothing and takes nothing.
        let cont = MeteredHeader.continue
        let hostile: [(String, String, [HTTPHeaderField], String)] = [
            ("unknown token", path, [HTTPHeaderField(cont, "00ff"), try pay(2, 4_096)], "1326"),
            ("replayed voucher", path, [HTTPHeaderField(cont, token), try pay(1, 2_048)], "1323"),
            ("below the step", path, [HTTPHeaderField(cont, token), try pay(2, 4_095)], "1302"),
            ("another path", "/bytes/bytes/2501", [HTTPHeaderField(cont, token), try pay(2, 4_096)], "1326"),
            ("no proof", path, [HTTPHeaderField(cont, token)], "1301"),
            ("another channel", path, [HTTPHeaderField(cont, token), otherVoucher], "1321"),
        ]
        for (what, p, headers, code) in hostile {
            let reply = try await Self.get(s, p, headers)
            #expect(reply.status == 402, "\(what)")
            #expect(reply.headers["paymesh-error-code"] == code, "\(what): \(reply.body)")
        }
        #expect(try await Self.received(s) == "2048")

        // The second step, then its voucher replayed for the third, then the last (452 bytes: priced exactly, 904).
        let second = try await Self.get(s, path, [HTTPHeaderField(cont, token), try pay(2, 4_096)])
        #expect(second.status == 206)
        #expect(second.body == String(full.dropFirst(1_024).prefix(1_024)))
        #expect(second.headers["paymesh-units-from"] == "1024" && second.headers["paymesh-next-price"] == "904")
        #expect(try await Self.get(s, path, [HTTPHeaderField(cont, token), try pay(2, 4_096)]).headers["paymesh-error-code"] == "1323")
        let last = try await Self.get(s, path, [HTTPHeaderField(cont, token), try pay(3, 5_000)])
        #expect(last.status == 206)
        #expect(last.body == String(full.dropFirst(2_048)))
        #expect(last.headers["paymesh-continue"] == nil && last.headers["paymesh-units"] == "452")
        #expect(first.body + second.body + last.body == full)
        // Served in full: the token is gone; a further voucher is not taken.
        #expect(try await Self.get(s, path, [HTTPHeaderField(cont, token), try pay(4, 5_002)]).headers["paymesh-error-code"] == "1326")
        #expect(try await Self.received(s) == "5000")
        #expect(s.upstream.calls == 1)

        // The channel runs out: 5,000 of 10,000 spent; a 20,000-byte answer gets two steps (9,096),
        // the third (11,144) is above the deposit (1100) and nothing more is served.
        let big = "/bytes/bytes/20000"
        let b1 = try await Self.get(s, big, [try pay(5, 7_048)])
        let bigToken = try #require(b1.headers["paymesh-continue"])
        let b2 = try await Self.get(s, big, [HTTPHeaderField(cont, bigToken), try pay(6, 9_096)])
        #expect(b2.status == 206 && b2.headers["paymesh-units-from"] == "1024")
        let b3 = try await Self.get(s, big, [HTTPHeaderField(cont, bigToken), try pay(7, 11_144)])
        #expect(b3.status == 402 && b3.headers["paymesh-error-code"] == "1100")
        #expect(b1.body.utf8.count + b2.body.utf8.count == 2_048)
        #expect(try await Self.received(s) == "9096")

        // Tokens, and an answer shorter than the first step: 3 lines for a step of 16 — served whole
        // with the upstream's status; the 13 unused tokens' prepayment (390) is not credited (§12.5).
        let lines = Self.requirements(s, unit: .token, price: Self.tokenPrice, service: "lines")
        let short = try await Self.get(s, "/lines/lines/3", [ChannelSchemeProof.xPayment(try s.voucher(nonce: 8, amount: 9_576), paying: lines)])
        #expect(short.status == 200)
        #expect(short.body == "line 0\nline 1\nline 2\n")
        #expect(short.headers["paymesh-units"] == "3" && short.headers["paymesh-units-total"] == "3" && short.headers["paymesh-continue"] == nil)
        #expect(try await Self.received(s) == "9576")

        await s.gateway.stop()
        await s.payer.stop()
        await s.upstream.stop()
    }
}

