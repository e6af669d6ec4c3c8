import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshNode

/// One payment the web view shows (Specs/webview.md, "Payment records"): what the node's events
/// said, with the channel's asset when the channel is known.
public struct PaymentRecord: Sendable, Hashable {
    public enum Kind: String, Sendable {
        /// A voucher of ours acknowledged by the payee (`payment.acked`).
        case sent
        /// A voucher accepted from a payer (`payment.received`).
        case received
        /// A voucher of ours refused by the payee (`payment.rejected`).
        case rejected
        /// Over a route: ours succeeded, arrived here, passed through here, or failed (`htlc.*`).
        case htlcSent = "htlc.sent", htlcReceived = "htlc.received", htlcForwarded = "htlc.forwarded", htlcFailed = "htlc.failed"
    }

    /// 1, 2, 3, … in the order the node published the events (per node run).
    public var seq: UInt64
    /// When the web view saw it (the node's clock, Unix ms).
    public var atUnixMillis: UInt64
    public var kind: Kind
    public var channel: ChannelID?
    public var nonce: UInt64?
    /// What moved (atomic units): the acknowledged increase, the received increment, the HTLC
    /// amount, or the forwarding fee; nil when the event does not tell.
    public var amount: UInt128?
    /// The channel's cumulative paid amount after it (vouchers only).
    public var cumulative: UInt128?
    public var asset: Asset?
    public var paymentHash: Hash32?
    /// Why it failed (rejected, htlc.failed).
    public var code: PaymeshErrorCode?
}

/// The web view's recent payments, sans-IO: typed `NodeEvent`s in, `PaymentRecord`s out, at most
/// `capacity` kept (oldest forgotten first). The acknowledged amount of a voucher is the increase
/// of the channel's acknowledged cumulative amount since the last acknowledgement seen here.
public struct PaymentLog: Sendable {
    /// Records kept for the snapshot (`payments`).
    public static let defaultCapacity = 200

    public let capacity: Int
    private var ring: [PaymentRecord] = []
    private var head = 0
    /// Records made so far (the last record's `seq`).
    public private(set) var total: UInt64 = 0
    /// The last acknowledged cumulative amount per payer channel.
    private var acked: [ChannelID: UInt128] = [:]

    public init(capacity: Int = defaultCapacity) {
        precondition(capacity > 0, "a payment log keeps at least one record")
        self.capacity = capacity
    }

    /// Oldest first.
    public var records: [PaymentRecord] { Array(ring[head...] + ring[..<head]) }

    /// Seeds a channel's acknowledged amount (what the node reported when the log started), so
    /// that the first acknowledgement seen counts only what it adds.
    public mutating func seed(_ channel: ChannelID, acked amount: UInt128) { acked[channel] = max(acked[channel] ?? 0, amount) }

    /// The record `event` makes, if it is a payment (kept in the log), else nil. `asset` is the
    /// asset of the event's channel when known.
    public mutating func record(_ event: NodeEvent, atUnixMillis now: UInt64, asset: Asset?) -> PaymentRecord? {
        var r = PaymentRecord(seq: 0, atUnixMillis: now, kind: .sent, asset: asset)
        switch event {
        case .channel(.paymentAcknowledged(let id, let nonce, let cumulative)):
            let before = acked[id] ?? 0
            guard cumulative > before else { return nil } // already counted (seeded after it)
            acked[id] = cumulative
            (r.channel, r.nonce, r.amount, r.cumulative) = (id, nonce, cumulative - before, cumulative)
        case .channel(.paymentReceived(let id, let nonce, let increment, let cumulative, _)):
            (r.kind, r.channel, r.nonce, r.amount, r.cumulative) = (.received, id, nonce, increment, cumulative)
        case .channel(.paymentRejected(let id, let nonce, let code, _)):
            (r.kind, r.channel, r.nonce, r.code) = (.rejected, id, nonce, code)
        case .htlc(.paymentSucceeded(let hash, _, let amount, _)):
            (r.kind, r.paymentHash, r.amount) = (.htlcSent, hash, amount)
        case .htlc(.paymentReceived(let hash, let amount, let id)):
            (r.kind, r.paymentHash, r.amount, r.channel) = (.htlcReceived, hash, amount, id)
        case .htlc(.forwarded(let hash, _, let outgoing, let fee)):
            (r.kind, r.paymentHash, r.amount, r.channel) = (.htlcForwarded, hash, fee, outgoing.channelID)
        case .htlc(.paymentFailed(let hash, _, _, let code)):
            (r.kind, r.paymentHash, r.code) = (.htlcFailed, hash, code)
        default:
            return nil
        }
        total += 1
        r.seq = total
        if ring.count < capacity {
            ring.append(r)
        } else {
            ring[head] = r
            head = (head + 1) % capacity
        }
        return r
    }

    /// The channel an event is about, if any (what the asset lookup needs).
    public static func channel(of event: NodeEvent) -> ChannelID? {
        switch event {
        case .channel(let n): n.channelID
        case .streamPaused(_, let id, _, _), .htlcChannel(let id), .htlc(.paymentReceived(_, _, let id)): id
        case .htlc(.forwarded(_, _, let outgoing, _)): outgoing.channelID
        default: nil
        }
    }
}
