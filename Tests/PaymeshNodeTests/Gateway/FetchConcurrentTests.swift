import NIOConcurrencyHelpers
import PaymeshChannels
import PaymeshConsole
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshPay402
import PaymeshTestSupport
import Testing

/// Concurrent `http.fetch` calls paying through one existing channel (Specs/http402.md §11.5), on
/// the in-memory network: the payee verifies and stores each voucher exactly as the gateway does
/// (`FetchOpenWaitTests.MemoryGateway`), behind a hostile transport that lets a later request
/// overtake an earlier one whenever two are in flight. Each request must get its resource once,
/// both ends must agree on exactly N × price, and no request may end in 1483.
@Suite struct FetchConcurrentTests {
    static let price = FetchOpenWaitTests.price
    static let requests = 8

    /// Holds each paid request until a later one arrives (which is then served first) or 300 ms
    /// pass; counts how many paid requests were ever in flight at once.
    final class OvertakingGateway: HTTPExchange {
        let inner: FetchOpenWaitTests.MemoryGateway
        private let state = NIOLockedValueBox<(parked: (ticket: Int, waiter: CheckedContinuation<Void, Never>)?, tickets: Int, inFlight: Int,
                                                maxInFlight: Int, overtaken: Int)>((nil, 0, 0, 0, 0))
        var maxInFlight: Int { state.withLockedValue { $0.maxInFlight } }
        var overtaken: Int { state.withLockedValue { $0.overtaken } }

        init(_ inner: FetchOpenWaitTests.MemoryGateway) { self.inner = inner }

        func send(method: String, host: String, port: Int, target: String, headers: [(String, String)], body: [UInt8]?,
                  maxResponseBytes: Int) async throws(NodeError) -> HTTPExchangeResponse {
            let paid = headers.contains { ["x-payment", "payment-signature"].contains($0.0.lowercased()) }
            guard paid else { return try await inner.send(method: method, host: host, port: port, target: target, headers: headers, body: body,
                                                          maxResponseBytes: maxResponseBytes) }
            let earlier = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
                s.inFlight += 1
                s.maxInFlight = max(s.maxInFlight, s.inFlight)
                defer { s.parked = nil }
                if s.parked != nil { s.overtaken += 1 }
                return s.parked?.waiter
            }
            defer { state.withLockedValue { $0.inFlight -= 1 } }
            if let earlier {
                // This later request is served before the earlier one it overtook.
                let answer = try await inner.send(method: method, host: host, port: port, target: target, headers: headers, body: body,
                                                  maxResponseBytes: maxResponseBytes)
                earlier.resume()
                return answer
            }
            await withCheckedContinuation { (waiter: CheckedContinuation<Void, Never>) in
                let ticket = state.withLockedValue { s -> Int in
                    s.tickets += 1
                    s.parked = (s.tickets, waiter)
                    return s.tickets
                }
                Task {
                    try? await Task.sleep(for: .milliseconds(300))
                    let mine = state.withLockedValue { s -> CheckedContinuation<Void, Never>? in
                        guard let p = s.parked, p.ticket == ticket else { return nil }
                        s.parked = nil
                        return p.waiter
                    }
                    mine?.resume()
                }
            }
            return try await inner.send(method: method, host: host, port: port, target: target, headers: headers, body: body,
                                        maxResponseBytes: maxResponseBytes)
        }

        func stream(method: String, host: String, port: Int, target: String, headers: [(String, String)], body: [UInt8]?,
                    maxResponseBytes: Int, timeoutSeconds: Int64,
                    onHead: @escaping @Sendable (Int, [(String, String)]) -> Void) async throws -> HTTPExchangeResponse {
            throw NodeError.internalError("echo is sold per call; nothing streams")
        }
    }

    /// The requests started at once (unstructured tasks: a task group is a known crash of this toolchain on some async paths).
    static func inParallel(_ fetcher: HTTPFetcher, _ keys: [String]) async throws -> [FetchResult] {
        let tasks = keys.map { key in Task { try await fetcher.fetch(try FetchOpenWaitTests.request(key)) } }
        var all: [FetchResult] = []
        for t in tasks { all.append(try await t.value) }
        return all
    }

    @Test func concurrentFetchesThroughOneChannelArePresentedInNonceOrder() async throws {
        try await withTestNetwork(2) { net in
            try await net.connect(0, 1)
            try await net[0].fund(1_000_000)
            let channel = try await net[0].openChannel(to: net[1], deposit: 100_000)
            let memory = FetchOpenWaitTests.MemoryGateway(payee: net[1].payments, payTo: net[1].id)
            let gateway = OvertakingGateway(memory)
            let fetcher = try HTTPFetcher(payments: net[0].payments, routed: nil, exchange: gateway)

            let results = try await Self.inParallel(fetcher, (0..<Self.requests).map { "parallel-\($0)" })
            // Every request served once and paid exactly the price, through the one channel, one nonce each.
            #expect(results.count == Self.requests)
            for r in results {
                #expect(r.status == 200 && r.body == Array("served".utf8) && r.paid == Self.price && r.channel == channel && r.receipt != nil,
                        "\(r.key): \(r.status) paid \(r.paid)")
            }
            #expect(results.compactMap(\.nonce).sorted() == (1...UInt64(Self.requests)).map { $0 })
            #expect(memory.served.withLockedValue { $0 } == Self.requests)
            #expect(gateway.maxInFlight == 1, "a voucher of the channel was presented while an earlier one was unanswered")
            #expect(gateway.overtaken == 0)
            // Both ends: exactly N × price, nothing paid twice.
            let total = UInt128(Self.requests) * Self.price
            let payer = try #require(await net[0].payments.view(channel))
            #expect(payer.snapshot.latestVoucher?.amount.atomicUnits == total && payer.snapshot.latestVoucher?.nonce == UInt64(Self.requests))
            let payee = try #require(await net[1].payments.view(channel))
            #expect(payee.ackedNonce == UInt64(Self.requests) && payee.ackedAmount == total)
            let turns = await fetcher.turns
            #expect(turns.isEmpty, "every turn was passed")
        }
    }

    /// A retry of every key after the parallel run answers 1483 with the receipt of that key's own voucher.
    @Test func retriesAfterAParallelRunFindTheirOwnVoucher() async throws {
        try await withTestNetwork(2) { net in
            try await net.connect(0, 1)
            try await net[0].fund(1_000_000)
            let channel = try await net[0].openChannel(to: net[1], deposit: 100_000)
            let memory = FetchOpenWaitTests.MemoryGateway(payee: net[1].payments, payTo: net[1].id)
            let fetcher = try HTTPFetcher(payments: net[0].payments, routed: nil, exchange: OvertakingGateway(memory))
            let results = try await Self.inParallel(fetcher, (0..<4).map { "k\($0)" })
            for r in results {
                do {
                    _ = try await fetcher.fetch(try FetchOpenWaitTests.request(r.key))
                    Issue.record("\(r.key) paid again")
                } catch {
                    let e = try #require(error as? NodeError)
                    #expect(e.paymeshCode == .fetchAlreadyPaid)
                    #expect(e.detail.contains("voucher \(r.nonce!) of channel \(channel)"), "\(e.detail)")
                }
            }
            #expect(memory.served.withLockedValue { $0 } == 4)
        }
    }

    /// The same through a real gateway (the HTTP listener, `acceptHTTPPayment`, the upstream) and
    /// the buyer's console: 8 `http.fetch` calls at once through its one channel.
    @Test func concurrentConsoleFetchesThroughARealGateway() async throws {
        let s = try await GatewayTests.setUp()
        let keys = (0..<Self.requests).map { "real-\($0)" }
        let payer = s.payer, http = s.http
        let tasks = keys.map { key in
            Task { try await payer.call("http.fetch", ["url": .string("http://\(http)/echo/\(key)"), "max_price": "1000", "idempotency_key": .string(key)]) }
        }
        var nonces: [String] = []
        for (key, task) in zip(keys, tasks) {
            let r = try await task.value
            #expect(r["status"] == 200 && r["paid"] == .string(String(GatewayTests.price)) && r["channel"]?.stringValue == s.channel.description,
                    "\(key): \(r)")
            #expect(r["body"]?.stringValue?.hasSuffix("upstream GET /api/\(key)") == true, "\(key): its own resource, \(r)")
            nonces.append(r["nonce"]?.stringValue ?? "")
        }
        #expect(nonces.sorted { Int($0) ?? 0 < Int($1) ?? 0 } == (1...Self.requests).map(String.init))
        let total = String(UInt128(Self.requests) * GatewayTests.price)
        let atGateway = try await s.gateway.call("channel.get", ["channel": .string(s.channel.description)])
        let atPayer = try await s.payer.call("channel.get", ["channel": .string(s.channel.description)])
        #expect(atGateway["paid"] == .string(total) && atPayer["paid"] == .string(total), "gateway \(atGateway), payer \(atPayer)")
        #expect(s.upstream.calls == Self.requests)
        await s.gateway.stop()
        await s.payer.stop()
        await s.upstream.stop()
    }

    /// Holds every paid request until `open()`: the first request keeps its channel's turn meanwhile.
    final class GatedGateway: HTTPExchange {
        let inner: FetchOpenWaitTests.MemoryGateway
        private let gate = NIOLockedValueBox<(open: Bool, waiting: [CheckedContinuation<Void, Never>])>((false, []))
        var held: Int { gate.withLockedValue { $0.waiting.count } }

        init(_ inner: FetchOpenWaitTests.MemoryGateway) { self.inner = inner }

        func open() {
            let waiting = gate.withLockedValue { g -> [CheckedContinuation<Void, Never>] in
                g.open = true
                defer { g.waiting = [] }
                return g.waiting
            }
            for w in waiting { w.resume() }
        }

        func send(method: String, host: String, port: Int, target: String, headers: [(String, String)], body: [UInt8]?,
                  maxResponseBytes: Int) async throws(NodeError) -> HTTPExchangeResponse {
            if headers.contains(where: { ["x-payment", "payment-signature"].contains($0.0.lowercased()) }) {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    let resumeNow = gate.withLockedValue { g -> Bool in
                        if !g.open { g.waiting.append(c) }
                        return g.open
                    }
                    if resumeNow { c.resume() }
                }
            }
            return try await inner.send(method: method, host: host, port: port, target: target, headers: headers, body: body,
                                        maxResponseBytes: maxResponseBytes)
        }

        func stream(method: String, host: String, port: Int, target: String, headers: [(String, String)], body: [UInt8]?,
                    maxResponseBytes: Int, timeoutSeconds: Int64,
                    onHead: @escaping @Sendable (Int, [(String, String)]) -> Void) async throws -> HTTPExchangeResponse {
            throw NodeError.internalError("echo is sold per call; nothing streams")
        }
    }

    /// A request waiting for its channel's turn past `turnWaitMillis` (manual clock) ends with 1487
    /// having signed and journaled nothing; retried with its key once the channel is free, it pays once.
    @Test func aTurnWaitPastItsBoundEndsWith1487AndSignsNothing() async throws {
        try await withTestNetwork(2) { net in
            try await net.connect(0, 1)
            try await net[0].fund(1_000_000)
            let channel = try await net[0].openChannel(to: net[1], deposit: 100_000)
            let memory = FetchOpenWaitTests.MemoryGateway(payee: net[1].payments, payTo: net[1].id)
            let gateway = GatedGateway(memory)
            var limits = HTTPFetcher.Limits()
            limits.turnWaitMillis = 5_000
            let fetcher = try HTTPFetcher(payments: net[0].payments, routed: nil, exchange: gateway, limits: limits)

            let first = Task { try await fetcher.fetch(try FetchOpenWaitTests.request("first")) }
            #expect(try await eventually(30) { gateway.held == 1 }, "the first request's voucher is at the gateway, unanswered")
            let second = Task { () async -> NodeError? in
                do { _ = try await fetcher.fetch(try FetchOpenWaitTests.request("second")); return nil } catch { return error as? NodeError }
            }
            #expect(try await eventually(30) { await fetcher.turnWaiters.count == 1 }, "the second request waits for the turn")
            net.advance(by: .milliseconds(4_999))
            #expect(try await eventually(1) { await fetcher.turnWaiters.isEmpty } == false, "still waiting before its deadline")
            net.advance(by: .milliseconds(1))
            let refused = await second.value
            #expect(refused?.paymeshCode == .fetchFailed, "\(String(describing: refused))")
            #expect(await net[0].payments.latestSignedVoucher(channel)?.nonce == 1, "nothing was signed for the request that gave up")
            #expect(gateway.held == 1)

            gateway.open()
            let a = try await first.value
            #expect(a.status == 200 && a.nonce == 1 && a.paid == Self.price)
            // No entry was written for "second": its retry is a new request, paid once with the next nonce.
            let b = try await fetcher.fetch(try FetchOpenWaitTests.request("second"))
            #expect(b.status == 200 && b.nonce == 2 && b.paid == Self.price && b.reused == false)
            let payee = try #require(await net[1].payments.view(channel))
            #expect(payee.ackedNonce == 2 && payee.ackedAmount == 2 * Self.price)
            #expect(memory.served.withLockedValue { $0 } == 2)
            let turns = await fetcher.turns, waiting = await fetcher.turnWaiters.count
            #expect(turns.isEmpty && waiting == 0)
        }
    }
}
