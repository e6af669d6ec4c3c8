import Foundation
import PaymeshConsole
import PaymeshNode
import Testing

/// `paymesh fetch` buying metered services end to end (Specs/http402.md §12.4): a gateway node
/// selling `bytes` (2 atomic units of USDC per byte, steps of 1,024) and `lines` (30 per
/// newline-delimited token, steps of 16) over a test upstream, and a buyer that is a real
/// `paymesh start` process with a channel to the gateway. Exact amounts are checked on both ends
/// of the channel after every purchase.
@Suite(.serialized) struct MeteredFetchTests {
    @Test func fetchPaysStepByStepWithinItsCap() async throws {
        try #require(PaymeshBinary.exists, "build the paymesh executable first (swift build --build-tests): \(PaymeshBinary.path)")
        let seller = try await GatewaySeller.start(selling: [.init(name: "bytes", unit: "byte", price: "2"),
                                                             .init(name: "lines", unit: "token", price: "30")])
        let (upstream, gateway) = (seller.upstream, seller.gateway)
        let dataDir = temporaryDirectory()
        let buyer = try await NodeProcess(dataDir: dataDir)
        defer { buyer.kill() }
        let channel = try await FetchTests.openChannel(buyer, to: gateway, deposit: "100000")
        func paid() async throws -> (payee: String?, payer: String?) { try await seller.paid(channel, buyer: buyer) }
        func fetch(_ path: String, _ extra: [String]) async throws -> PaymeshBinary.Output { try await seller.fetch(path, dataDir: dataDir, extra) }

        // Per byte: 2,500 bytes = steps of 1,024, 1,024 and 452 bytes = 2,048 + 2,048 + 904 = 5,000.
        let bytes = try await fetch("/bytes/bytes/2500", ["--max-price", "6000", "--json"])
        #expect(bytes.status == 0, "\(bytes.stderr)")
        let b = try JSONValue.parse(Array(bytes.stdout.utf8))
        #expect(b["status"] == 200 && b["paid"] == "5000" && b["unit"] == "byte" && b["units"] == "2500" && b["units_total"] == "2500", "\(bytes.stdout)")
        #expect(b["partial"] == .null && b["nonce"] == "3")
        #expect(b["body"]?.stringValue == TestUpstream.answer("GET", "/api/bytes/2500"))
        #expect(try await paid() == ("5000", "5000"))

        // Per token: 40 lines = 16 + 16 + 8 tokens = 480 + 480 + 240 = 1,200; the human output names units and amount.
        let lines = try await fetch("/lines/lines/40", ["--max-price", "0.0012USDC"])
        #expect(lines.status == 0, "\(lines.stderr)")
        #expect(lines.stdout == TestUpstream.answer("GET", "/api/lines/40"))
        #expect(lines.stderr.contains("paid 1200 atomic units") && lines.stderr.contains("40 of 40 tokens received"), "\(lines.stderr)")
        #expect(try await paid() == ("6200", "6200"))

        // The cap: 5,000 for 20,000 bytes buys two steps (4,096) and stops — never above the cap; the
        // answer is reported partial with what was received and paid.
        let capped = try await fetch("/bytes/bytes/20000", ["--max-price", "5000", "--json"])
        #expect(capped.status == 0, "\(capped.stderr)")
        let c = try JSONValue.parse(Array(capped.stdout.utf8))
        #expect(c["paid"] == "4096" && c["units"] == "2048" && c["units_total"] == "20000", "\(capped.stdout)")
        #expect(c["partial"]?.stringValue?.contains("cap") == true, "\(capped.stdout)")
        #expect(c["body"]?.stringValue?.utf8.count == 2_048)
        #expect(try await paid() == ("10296", "10296"))
        // A cap below the first step pays nothing.
        let tooLow = try await fetch("/bytes/bytes/10", ["--max-price", "2047"])
        #expect(tooLow.status == 1 && tooLow.stderr.contains("FETCH_PRICE_ABOVE_MAX"), "\(tooLow.stderr)")
        #expect(try await paid() == ("10296", "10296"))
        #expect(upstream.calls == 3)

        buyer.kill()
        await gateway.stop()
        await upstream.stop()
    }
}
