@testable import PaymeshNode
import PaymeshDaemon
import PaymeshMessages
import Testing

/// The payments actor's counters on their own: acknowledgements counted as differences of
/// cumulative acks from where this process started signing, refusals by code.
@Suite struct PaymentMetricsTests {
    static let usdc = try! Asset(id: "USDC", decimals: 6)

    @Test func acksCountFromTheFirstVoucherSignedAndRefusalsByCode() async throws {
        let collector = NodeMetricsCollector()
        var counters = PaymentMetrics(metrics: collector.metrics)
        let channel = try ChannelID([UInt8](repeating: 7, count: 32))
        counters.acknowledged(channel, asset: Self.usdc, nonce: 4, amount: 40) // before any voucher of ours: ignored
        counters.signed(channel, asset: Self.usdc, amount: 10, nonce: 5, cumulative: 50)
        counters.signed(channel, asset: Self.usdc, amount: 10, nonce: 6, cumulative: 60)
        counters.signed(channel, asset: Self.usdc, amount: 15, nonce: 7, cumulative: 75)
        counters.acknowledged(channel, asset: Self.usdc, nonce: 4, amount: 40) // re-establishment of an older state
        counters.acknowledged(channel, asset: Self.usdc, nonce: 6, amount: 60)
        counters.acknowledged(channel, asset: Self.usdc, nonce: 6, amount: 60) // repeated: nothing new
        counters.acknowledged(channel, asset: Self.usdc, nonce: 7, amount: 75)
        counters.rejected(.insufficientFunds)
        counters.rejected(.insufficientFunds)
        counters.refusedPeerMessage(.invalidSignature)

        let m = MetricsNodeTests.values(await collector.scrape())
        #expect(m["paymesh_payments_sent_total{asset=USDC}"] == 3)
        #expect(m["paymesh_payments_sent_atomic_total{asset=USDC}"] == 35)
        #expect(m["paymesh_payments_acked_total{asset=USDC}"] == 3)
        #expect(m["paymesh_payments_acked_atomic_total{asset=USDC}"] == 35)
        #expect(m["paymesh_payments_rejected_total{code=1100,name=INSUFFICIENT_FUNDS}"] == 2)
        #expect(m["paymesh_peer_messages_rejected_total{code=1101,name=INVALID_SIGNATURE}"] == 1)
    }
}
