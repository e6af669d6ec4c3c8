import NIOConcurrencyHelpers
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshNode
import PaymeshNodeTestSupport
import PaymeshPay402
import PaymeshTestSupport
import Testing

/// Two requests that both need a channel opened to the same payee (Specs/http402.md §11.3), on the
/// in-memory network with the manual clock: the second waits for the channel being opened for the
/// first and pays through it — one channel, within the policy's `max_per_peer`, nonces in order,
/// exact balances at both ends — and a wait past `openWaitMillis` ends with 1487 having opened or
/// paid nothing. The payee's answer to the open is held back so the second request surely arrives
/// while the first one's channel is being proposed.
@Suite struct FetchOpenWaitTests {
    static let price: UInt128 = 250
    static let deposit: UInt128 = 10_000
    static let url = "http://127.0.0.1:8402/echo"

    /// The gateway's per-call service on the payee node, for the in-memory network: proofs are
    /// verified and made durable by the payee's own payments service (`acceptHTTPPayment`, as
    /// GatewayRoutes does); only the HTTP listener is left out.
    final class MemoryGateway: HTTPExchange {
        let payee: PaymentsService
        let requirements: PaymentRequirements
        let served = NIOLockedValueBox(0)

        init(payee: PaymentsService, payTo: EthereumAddress) {
            self.payee = payee
            requirements = .channel(price: FetchOpenWaitTests.price, asset: "USDC", decimals: 6, unit: "call", payee: payTo, chainID: 0,
                                    resource: FetchOpenWaitTests.url, description: "echo")
        }

        func send(method: String, host: String, port: Int, target: String, headers: [(String, String)], body: [UInt8]?,
                  maxResponseBytes: Int) async throws(NodeError) -> HTTPExchangeResponse {
            do throws(Pay402Error) {
                guard case .channel(let proof)? = try PaymentProof.parse(headers: headers.map { HTTPHeaderField($0.0, $0.1) }) else {
                    return challenge(.noPayment)
                }
                let paid = try await payee.acceptHTTPPayment(proof, requirements: requirements)
                served.withLockedValue { $0 += 1 }
                let receipt = paid.receiptHeader.header(x402Version: proof.x402Version)
                return HTTPExchangeResponse(status: 200, headers: [(receipt.name, receipt.value)], body: Array("served".utf8))
            } catch { return challenge(error) }
        }

        func stream(method: String, host: String, port: Int, target: String, headers: [(String, String)], body: [UInt8]?,
                    maxResponseBytes: Int, timeoutSeconds: Int64,
                    onHead: @escaping @Sendable (Int, [(String, String)]) -> Void) async throws -> HTTPExchangeResponse {
            throw NodeError.internalError("echo is sold per call; nothing streams")
        }

        func challenge(_ error: Pay402Error) -> HTTPExchangeResponse {
            let c = PaymentChallenge(requirements: [requirements], error: error)
            return HTTPExchangeResponse(status: 402, headers: c.headers.map { ($0.name, $0.value) }, body: c.body)
        }
    }

    /// Node 0 buys with `auto_open` terms of one 10,000 deposit per peer; node 1 sells; they are connected.
    static func setUp(_ net: TestNetwork, limits: HTTPFetcher.Limits = .init()) async throws -> (HTTPFetcher, MemoryGateway) {
        try await net.connect(0, 1)
        try await net[0].payments.fund(asset: TestNetwork.usdc, amount: 1_000_000)
        var policy = await net[0].payments.spendingPolicy().0
        policy.autoOpen = [Asset.normalizedID("USDC"): AutoOpenTerms(deposit: deposit, maxPerPeer: deposit)]
        try await net[0].payments.setSpendingPolicy(policy)
        let gateway = MemoryGateway(payee: net[1].payments, payTo: net[1].id)
        return (try HTTPFetcher(payments: net[0].payments, routed: nil, exchange: gateway, limits: limits), gateway)
    }

    static func request(_ key: String) throws -> FetchRequest {
        FetchRequest(url: url, maxPrice: try AmountInput(parsing: "1000"), idempotencyKey: key)
    }

    @Test func aSecondRequestWaitsForTheChannelBeingOpenedAndPaysThroughIt() async throws {
        try await withTestNetwork(2) { net in
            let (fetcher, gateway) = try await Self.setUp(net)
            // The payee's answer to the open is held: the first request's channel stays PROPOSED.
            _ = net.hold(1, 0)
            let first = Task { try await fetcher.fetch(try Self.request("first")) }
            #expect(try await eventually(30) { await fetcher.openInFlight })
            let second = Task { try await fetcher.fetch(try Self.request("second")) }
            #expect(try await eventually(30) { await fetcher.openWaiters.count == 1 }, "the second request waits (no 1504)")
            net.release(1, 0)

            let a = try await first.value, b = try await second.value
            let opened = try #require(a.opened)
            #expect(a.status == 200 && a.paid == Self.price && a.channel == opened && a.nonce == 1)
            #expect(b.status == 200 && b.paid == Self.price && b.opened == nil && b.channel == opened && b.nonce == 2,
                    "the second request paid through the channel opened for the first")
            // One channel (a second would pass max_per_peer), its deposit out of the wallet, 500 paid.
            let views = await net[0].payments.views()
            #expect(views.count == 1)
            #expect(views.first?.snapshot.terms.deposit == Self.deposit)
            #expect(views.first?.snapshot.latestVoucher?.amount.atomicUnits == 2 * Self.price)
            #expect(await net[0].payments.walletBalance("USDC") == 1_000_000 - Self.deposit)
            let payee = try #require(await net[1].payments.view(opened))
            #expect(payee.ackedNonce == 2 && payee.ackedAmount == 2 * Self.price)
            #expect(gateway.served.withLockedValue { $0 } == 2)
            let waiting = await fetcher.openWaiters.count, opening = await fetcher.openInFlight
            #expect(waiting == 0 && !opening)
        }
    }

    @Test func aWaitPastItsBoundEndsWith1487AndOpensNothing() async throws {
        try await withTestNetwork(2) { net in
            var limits = HTTPFetcher.Limits()
            limits.openWaitMillis = 5_000 // below the open's own 15 s: the waiting request gives up first
            let (fetcher, gateway) = try await Self.setUp(net, limits: limits)
            _ = net.hold(1, 0)
            let first = Task { try await fetcher.fetch(try Self.request("first")) }
            #expect(try await eventually(30) { await fetcher.openInFlight })
            let second = Task { () async -> NodeError? in
                do { _ = try await fetcher.fetch(try Self.request("second")); return nil } catch { return error as? NodeError }
            }
            #expect(try await eventually(30) { await fetcher.openWaiters.count == 1 })
            net.advance(by: .milliseconds(4_999))
            #expect(try await eventually(1) { await fetcher.openWaiters.isEmpty } == false, "still waiting before its deadline")
            net.advance(by: .milliseconds(1))
            let refused = await second.value
            #expect(refused?.paymeshCode == .fetchFailed, "\(String(describing: refused))")
            #expect(await fetcher.openWaiters.isEmpty)

            // The first request still gets its channel; the one that gave up opened and paid nothing.
            net.release(1, 0)
            let a = try await first.value
            #expect(a.status == 200 && a.opened != nil && a.nonce == 1)
            #expect(await net[0].payments.views().count == 1)
            #expect(await net[0].payments.walletBalance("USDC") == 1_000_000 - Self.deposit)
            #expect(gateway.served.withLockedValue { $0 } == 1)
        }
    }
}
