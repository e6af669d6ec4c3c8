import Foundation
import PaymeshConsole
import PaymeshNode
import Testing

/// `paymesh fetch` buying a per-second service end to end (Specs/http402.md §12.6): a gateway node
/// selling `ticks` at 5 atomic units per second in steps of 1 s over the test upstream's slow
/// stream, and a buyer that is a real `paymesh start` process. The buyer pays the first step with
/// the request and tops up on another connection while its cap allows; exact amounts are checked
/// on both ends of the channel.
@Suite(.serialized) struct TimedFetchTests {
    @Test func fetchBuysSecondsWithinItsCap() async throws {
        try #require(PaymeshBinary.exists, "build the paymesh executable first (swift build --build-tests): \(PaymeshBinary.path)")
        let seller = try await GatewaySeller.start(selling: [.init(name: "ticks", unit: "second", price: "5")]) { $0.secondStep = 1 }
        let (upstream, gateway) = (seller.upstream, seller.gateway)
        let dataDir = temporaryDirectory()
        let buyer = try await NodeProcess(dataDir: dataDir)
        defer { buyer.kill() }
        let channel = try await FetchTests.openChannel(buyer, to: gateway, deposit: "100000")
        func paid() async throws -> (payee: String?, payer: String?) { try await seller.paid(channel, buyer: buyer) }
        func fetch(_ path: String, _ extra: [String]) async throws -> PaymeshBinary.Output { try await seller.fetch(path, dataDir: dataDir, extra) }

        // 1.5 s of upstream time, cap 15 (3 steps): complete after the first step and one or two top-ups.
        let done = try await fetch("/ticks/slow/15/100", ["--max-price", "15", "--json"])
        #expect(done.status == 0, "\(done.stderr)")
        let d = try JSONValue.parse(Array(done.stdout.utf8))
        #expect(d["status"] == 200 && d["unit"] == "second" && d["partial"] == .null, "\(done.stdout)")
        #expect(d["body"]?.stringValue == (0..<15).map { "tick \($0)\n" }.joined())
        let seconds = try #require(d["units"]?.stringValue.flatMap(Int.init))
        #expect(seconds >= 2 && seconds <= 3 && d["paid"]?.stringValue == String(5 * seconds), "\(done.stdout)")
        let afterFirst = String(5 * seconds)
        #expect(try await paid() == (afterFirst, afterFirst))

        // 10 s of upstream time, cap 10: two steps (2 s) bought, never above the cap; the gateway ends the answer unpaid.
        let capped = try await fetch("/ticks/slow/100/100", ["--max-price", "10", "--json"])
        #expect(capped.status == 0, "\(capped.stderr)")
        let c = try JSONValue.parse(Array(capped.stdout.utf8))
        #expect(c["paid"] == "10" && c["units"] == "2" && c["unit"] == "second", "\(capped.stdout)")
        #expect(c["partial"]?.stringValue?.contains("unpaid") == true && c["partial"]?.stringValue?.contains("cap") == true, "\(capped.stdout)")
        let lines = c["body"]?.stringValue?.split(separator: "\n").count ?? 0
        #expect(lines >= 15 && lines <= 20, "\(lines) lines for 2 s")
        let total = String(5 * seconds + 10)
        #expect(try await paid() == (total, total))
        // The human output names the seconds bought.
        let human = try await fetch("/ticks/slow/3/50", ["--max-price", "5"])
        #expect(human.status == 0 && human.stdout == "tick 0\ntick 1\ntick 2\n", "\(human.stderr)")
        #expect(human.stderr.contains("1 seconds bought"), "\(human.stderr)")
        #expect(upstream.calls == 3)

        buyer.kill()
        await gateway.stop()
        await upstream.stop()
    }
}
