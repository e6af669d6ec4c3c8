import Foundation
import PaymeshConsole
import PaymeshNode
import Testing

/// `paymesh fetch` end to end (Specs/http402.md §11): a gateway node selling `echo` (250 atomic
/// units of USDC per call, channel scheme) over a test upstream, and a buyer that is a real
/// `paymesh start` process with a channel to the gateway. The buyer pays through `paymesh fetch`
/// (its console's `http.fetch`); the payee's channel shows what was paid.
@Suite(.serialized) struct FetchTests {
    static let price: UInt128 = 250

    /// The buyer connects to the gateway, funds its ledger and opens a USDC channel to it: its id.
    static func openChannel(_ buyer: NodeProcess, to gateway: RunningNode, deposit: String) async throws -> String {
        _ = try await buyer.call("connect", ["host": "127.0.0.1", "port": .int(Int64(gateway.started.listen.port))])
        _ = try await buyer.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000000"])
        let opened = try await buyer.call("channel.open", ["peer": .string(gateway.started.id.description), "asset": "USDC", "deposit": .string(deposit)])
        return try #require(opened["channel"]?.stringValue)
    }

    @Test func fetchPaysOnceAcrossACrashOfTheBuyer() async throws {
        try #require(PaymeshBinary.exists, "build the paymesh executable first (swift build --build-tests): \(PaymeshBinary.path)")
        let seller = try await GatewaySeller.start(selling: [.init(name: "echo", unit: "call", price: String(Self.price))])
        let (upstream, gateway, http) = (seller.upstream, seller.gateway, seller.http)
        let dataDir = temporaryDirectory()
        var buyer = try await NodeProcess(dataDir: dataDir)
        defer { buyer.kill() }
        let channel = try await Self.openChannel(buyer, to: gateway, deposit: "10000")
        func received() async throws -> String? { try await gateway.call("channel.get", ["channel": .string(channel)])["paid"]?.stringValue }
        let url = "http://\(http)/echo/hello?x=1"
        func fetch(_ extra: [String]) async throws -> PaymeshBinary.Output {
            try await PaymeshBinary.run(["fetch", url, "--data-dir", dataDir] + extra, timeout: 60)
        }

        // No maximum: nothing is paid, the price is reported.
        let unpaid = try await fetch([])
        #expect(unpaid.status == 1)
        #expect(unpaid.stderr.contains("1482") && unpaid.stderr.contains("250"), "\(unpaid.stderr)")
        // Over the maximum: refused, nothing paid, the upstream untouched.
        let tooDear = try await fetch(["--max-price", "249"])
        #expect(tooDear.status == 1)
        #expect(tooDear.stderr.contains("FETCH_PRICE_ABOVE_MAX"), "\(tooDear.stderr)")
        #expect(try await received() == "0")
        #expect(upstream.calls == 0)

        // Paid with the channel scheme: the upstream's answer, the receipt header, 250 to the payee.
        let paid = try await fetch(["--max-price", "0.00025USDC", "--idempotency-key", "order-1", "-i"])
        #expect(paid.status == 0, "\(paid.stderr)")
        #expect(paid.stdout.hasPrefix("HTTP/1.1 200"), "\(paid.stdout)")
        #expect(paid.stdout.lowercased().contains("payment-response:"), "\(paid.stdout)")
        #expect(paid.stdout.hasSuffix("upstream GET /api/hello?x=1"), "\(paid.stdout)")
        #expect(paid.stderr.contains("paid 250"), "\(paid.stderr)")
        #expect(try await received() == "250")
        #expect(upstream.calls == 1)

        // SIGKILL the buyer and start it again from its data directory: the same key pays nothing.
        buyer.kill()
        buyer = try await NodeProcess(dataDir: dataDir)
        let retried = try await fetch(["--max-price", "250", "--idempotency-key", "order-1"])
        #expect(retried.status == 1)
        #expect(retried.stderr.contains("FETCH_ALREADY_PAID"), "\(retried.stderr)")
        #expect(try await received() == "250")
        #expect(upstream.calls == 1)
        // The same key for another request is a conflict; a new key is a new payment.
        let conflict = try await PaymeshBinary.run(["fetch", "http://\(http)/echo/other", "--data-dir", dataDir, "--max-price", "250",
                                                    "--idempotency-key", "order-1"])
        #expect(conflict.stderr.contains("FETCH_KEY_CONFLICT"), "\(conflict.stderr)")
        let second = try await fetch(["--max-price", "250", "--idempotency-key", "order-2", "--json"])
        #expect(second.status == 0, "\(second.stderr)")
        let json = try JSONValue.parse(Array(second.stdout.utf8))
        #expect(json["paid"] == "250" && json["scheme"] == "paymesh-channel" && json["nonce"] == "2", "\(second.stdout)")
        #expect(try await received() == "500")
        #expect(upstream.calls == 2)
        // A URL off loopback is refused before anything is sent.
        let remote = try await PaymeshBinary.run(["fetch", "http://192.0.2.1:80/", "--data-dir", dataDir, "--max-price", "250"])
        #expect(remote.stderr.contains("FETCH_URL_REFUSED"), "\(remote.stderr)")

        buyer.kill()
        await gateway.stop()
        await upstream.stop()
    }
}
