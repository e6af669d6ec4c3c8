import CoreMetrics
import PaymeshChannels
import PaymeshMessages

/// The payments service's counters (docs/operations.md, "Metrics"), kept in the service's actor:
/// the per-asset handles are looked up in a dictionary the actor owns (no lock), and each
/// increment is the metrics handler's own atomic add.
struct PaymentMetrics {
    let metrics: NodeMetrics
    private var assets: [String: AssetCounters] = [:]
    private var rejections: [UInt16: Counter] = [:]
    private var peerRejections: [UInt16: Counter] = [:]
    /// Per payer channel, the acknowledgement counted last (nonce, cumulative amount): an ack is
    /// cumulative, so the vouchers and amount it adds are the difference. Starts just below the
    /// first voucher this process signs on the channel: acks of vouchers signed before a restart
    /// (re-establishment) are not counted.
    private var acked: [ChannelID: (nonce: UInt64, amount: UInt128)] = [:]

    private struct AssetCounters {
        let sent, acked, received: Counter
        let sentAmount, ackedAmount, receivedAmount: FloatingPointCounter

        init(_ metrics: NodeMetrics, asset: String) {
            let labels = ["asset": asset]
            sent = metrics.counter(NodeMetrics.Name.paymentsSent, labels)
            acked = metrics.counter(NodeMetrics.Name.paymentsAcked, labels)
            received = metrics.counter(NodeMetrics.Name.paymentsReceived, labels)
            sentAmount = metrics.amountCounter(NodeMetrics.Name.paymentsSentAmount, labels)
            ackedAmount = metrics.amountCounter(NodeMetrics.Name.paymentsAckedAmount, labels)
            receivedAmount = metrics.amountCounter(NodeMetrics.Name.paymentsReceivedAmount, labels)
        }
    }

    init(metrics: NodeMetrics) { self.metrics = metrics }

    private mutating func counters(_ asset: Asset) -> AssetCounters {
        if let c = assets[asset.id] { return c }
        let c = AssetCounters(metrics, asset: asset.id)
        assets[asset.id] = c
        return c
    }

    /// The payer signed voucher `nonce` (cumulative `cumulative`) adding `amount` on `channel`.
    /// The first one this process signs on a channel sets where its acknowledgements start counting.
    mutating func signed(_ channel: ChannelID, asset: Asset, amount: UInt128, nonce: UInt64, cumulative: UInt128) {
        if acked[channel] == nil { acked[channel] = (nonce &- 1, cumulative &- amount) }
        let c = counters(asset)
        c.sent.increment()
        c.sentAmount.increment(by: Double(amount))
    }

    /// The payee acknowledged the payer's vouchers through `nonce` (cumulative `amount`).
    mutating func acknowledged(_ channel: ChannelID, asset: Asset, nonce: UInt64, amount: UInt128) {
        guard let last = acked[channel], nonce > last.nonce else { return }
        acked[channel] = (nonce, amount)
        let c = counters(asset)
        c.acked.increment(by: Int64(clamping: nonce - last.nonce))
        if amount > last.amount { c.ackedAmount.increment(by: Double(amount - last.amount)) }
    }

    /// The payee accepted a voucher adding `increment`.
    mutating func received(asset: Asset, increment: UInt128) {
        let c = counters(asset)
        c.received.increment()
        c.receivedAmount.increment(by: Double(increment))
    }

    /// The payee refused one of our vouchers with `code`.
    mutating func rejected(_ code: PaymeshErrorCode) {
        Self.count(code, NodeMetrics.Name.paymentsRejected, in: &rejections, metrics)
    }

    /// We refused a peer's message on a channel with `code`.
    mutating func refusedPeerMessage(_ code: PaymeshErrorCode) {
        Self.count(code, NodeMetrics.Name.peerMessagesRejected, in: &peerRejections, metrics)
    }

    private static func count(_ code: PaymeshErrorCode, _ name: String, in table: inout [UInt16: Counter], _ metrics: NodeMetrics) {
        let key = code.rawValue
        if table[key] == nil { table[key] = metrics.counter(name, ["code": "\(code.rawValue)", "name": code.name ?? "UNKNOWN_ERROR"]) }
        table[key]!.increment()
    }

    mutating func forget(_ channel: ChannelID) { acked[channel] = nil }
}
