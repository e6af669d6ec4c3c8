@testable import PaymeshConsole
import PaymeshMessages
import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshTestSupport
import Testing

/// `pay` with `progress`, `pay.cancel` and `pay.running` (Specs/console.md §8, "Progress and
/// cancellation") through the console registry, over payments services on the in-memory network.
@Suite struct PayProgressMethodsTests {
    static func openChannel(_ net: TestNetwork) async throws -> String {
        try await net.connect(0, 1)
        try await net[0].fund(1_000_000)
        return try await net[0].openChannel(to: net[1], deposit: 100_000).description
    }

    /// The `pay.progress` notifications on the wire before the response line, and the response.
    static func notificationsThenResponse(_ lines: AsyncStream<String>) async throws -> ([JSONValue], JSONValue) {
        var progress: [JSONValue] = []
        for await line in lines {
            switch try ConsoleProtocol.parseIncoming(line: Array(line.utf8)) {
            case .notification("pay.progress", let params): progress.append(params)
            case .notification: continue
            case .response(_, let result): return (progress, try result.get())
            }
        }
        throw NodeError.internalError("the wire ended before the response")
    }

    @Test func progressNotificationsPrecedeTheResponse() async throws {
        try await withTestNetwork(2) { net in
            let channel = try await Self.openChannel(net)
            let registry = ConsoleRegistry()
            registry.register(PaymentsMethods(payments: net[0].payments))
            let wire = SessionMethodsTests.Wire()
            let request = ConsoleProtocol.Request(method: "pay", params: ["channel": .string(channel), "amount": "0.000002USDC", "count": 500,
                                                                          "progress": true], id: .int(7))
            let line = try #require(await registry.handle(request, session: wire.session))
            try await wire.session.send(line)
            let (progress, result) = try await Self.notificationsThenResponse(wire.lines)
            #expect(result["complete"] == .bool(true) && result["ackedNonce"] == 500)
            let first = try #require(progress.first), last = try #require(progress.last)
            #expect(first["acked"] == 0 && first["count"] == 500 && first["done"] == .bool(false) && first["burst"] == result["burst"])
            #expect(last["acked"] == 500 && last["signed"] == 500 && last["done"] == .bool(true))
            #expect(last["ackedAmount"] == "1000" && last["asset"] == "USDC" && last["decimals"] == 6)
            #expect(progress.count <= PayProgress.maxSteps + 2)
            // Without `progress`, no notification: the response alone.
            let quiet = try #require(await registry.handle(ConsoleProtocol.Request(method: "pay", params: ["channel": .string(channel), "amount": "1", "count": 5],
                                                                                  id: .int(8)), session: wire.session))
            try await wire.session.send(quiet)
            let (none, second) = try await Self.notificationsThenResponse(wire.lines)
            #expect(none.isEmpty && second["complete"] == .bool(true))
            await wire.close()
        }
    }

    @Test func payCancelFromAnotherConnection() async throws {
        try await withTestNetwork(2) { net in
            let channel = try await Self.openChannel(net)
            let registry = ConsoleRegistry()
            registry.register(PaymentsMethods(payments: net[0].payments))
            let paying = SessionMethodsTests.Wire(), other = SessionMethodsTests.Wire()
            // Paced at 1 payment per second on a clock that does not move: one voucher, then it waits.
            let request = ConsoleProtocol.Request(method: "pay", params: ["channel": .string(channel), "amount": "4", "count": 100, "rate": 1,
                                                                          "progress": true], id: .int(1))
            let call = Task { try #require(await registry.handle(request, session: paying.session)) }
            var lines = paying.lines.makeAsyncIterator()
            let firstLine = try #require(await lines.next())
            guard case .notification("pay.progress", let started) = try ConsoleProtocol.parseIncoming(line: Array(firstLine.utf8)) else {
                Issue.record("expected pay.progress, got \(firstLine)")
                return
            }
            let burst = try #require(started["burst"])
            let running = try await SessionMethodsTests().call(registry, "pay.running", on: other)
            #expect(running["bursts"] == .array([burst]))
            let cancelled = try await SessionMethodsTests().call(registry, "pay.cancel", ["burst": burst], on: other)
            #expect(cancelled["cancelled"] == .bool(true) && cancelled["burst"] == burst)
            guard case .response(_, let answer) = try ConsoleProtocol.parseIncoming(line: Array(try await call.value.utf8)) else {
                Issue.record("no response")
                return
            }
            let result = try answer.get()
            #expect(result["complete"] == .bool(false) && result["signed"] == 1 && result["ackedNonce"] == 1 && result["ackedAmount"] == "4")
            #expect(result["error"]?["code"] == -32050 && result["error"]?["name"] == "CANCELLED")
            // Cancelling again, or an unknown burst: nothing runs.
            let again = try await SessionMethodsTests().call(registry, "pay.cancel", ["burst": burst], on: other)
            #expect(again["cancelled"] == .bool(false))
            #expect(try await SessionMethodsTests().call(registry, "pay.running", on: other)["bursts"] == .array([]))
            await paying.close()
            await other.close()
        }
    }
}
