public import PaymeshChannels
import PaymeshCrypto
public import PaymeshMessages
public import PaymeshPay402
import PaymeshStore

/// A voucher presented over HTTP (x402, the Paymesh channel scheme) that the channel engine
/// accepted and made durable: what the gateway puts in `X-PAYMENT-RESPONSE` / `PAYMENT-RESPONSE`.
public struct HTTPPayment: Sendable, Hashable {
    public var accepted: AcceptedVoucher
    /// The payee's signed receipt, issued when the voucher carries a task id (as from the wire).
    public var receipt: Receipt?

    public var receiptHeader: PaymentReceiptHeader { PaymentReceiptHeader(accepted: accepted, receipt: receipt) }
}

/// Gateway requests waiting for their voucher's write (bounded; resumed by the outbox step).
struct HTTPPaymentWaiters {
    /// At most this many HTTP payments are being persisted at once; beyond it a request is
    /// refused (1504 RATE_LIMITED) before anything is checked.
    static let maxPending = 1_024

    private var waiting: [UInt64: CheckedContinuation<String?, Never>] = [:]
    private var next: UInt64 = 1

    var isFull: Bool { waiting.count >= Self.maxPending }

    mutating func add(_ continuation: CheckedContinuation<String?, Never>) -> UInt64 {
        defer { next += 1 }
        waiting[next] = continuation
        return next
    }

    mutating func take(_ token: UInt64) -> CheckedContinuation<String?, Never>? { waiting.removeValue(forKey: token) }

    /// Shutdown: every waiting request learns its voucher may not be durable.
    mutating func cancelAll() {
        let all = waiting.values
        waiting.removeAll()
        for c in all { c.resume(returning: "the node is shutting down") }
    }
}

extension PaymentsService {
    /// Accepts a channel-scheme proof presented to the HTTP gateway **exactly like a PAYMENT_UPDATE
    /// from the wire** (Specs/http402.md §4.3): `PaymentVerifier` checks it against the payee
    /// channel's current state (one actor turn, so two requests cannot spend one voucher), then the
    /// channel book receives it as from the channel's payer — the same receiver rules, the same
    /// persist-before-acknowledge step — and this call returns only once the voucher is durable.
    /// The acknowledgement is this return (the HTTP answer), not a PAYMENT_ACK on the wire: the
    /// book's sends for this voucher are dropped, and a refusal is not counted as misbehaviour of
    /// the payer's peer (an HTTP client is not authenticated by the transport; the signature is
    /// the payer's).
    public func acceptHTTPPayment(_ proof: ChannelSchemeProof,
                                  requirements: PaymentRequirements) async throws(Pay402Error) -> HTTPPayment {
        guard !stopped else { throw Pay402Error(.internalError, "the node is shutting down") }
        guard !httpPayments.isFull else { throw Pay402Error(.rateLimited, "too many payments are being stored; retry") }
        let voucher = proof.voucher
        let view = payees[voucher.channelID].map { PaymeshPay402.ChannelView($0) }
        let accepted = try PaymentVerifier.verify(proof, requirements: requirements, channel: view)
        let payer = accepted.payer, id = voucher.channelID
        var refusal: Pay402Error?
        var receipt: Receipt?
        var actions: [BookAction] = []
        for action in book.onReceived([.paymentUpdate(voucher)], from: payer, now: now(), balances: [:]) {
            switch action {
            case .channel(let channel, let peer, let list):
                var kept: [ChannelAction] = []
                for a in list {
                    switch a {
                    case .send(.paymentAck(let ack)) where ack.channelID == id && ack.nonce == voucher.nonce && ack.status == PaymentAck.Status.rejected:
                        refusal = Pay402Error(ack.errorCode ?? .internalError, ack.reason ?? "the channel refused the voucher")
                    case .send: continue
                    case .recordReceipt(let r): receipt = r; kept.append(a)
                    default: kept.append(a)
                    }
                }
                actions.append(.channel(channel, peer: peer, kept))
            case .sendNow, .misbehaved, .negotiation: continue
            case .protectPeer, .log: actions.append(action)
            }
        }
        if let refusal {
            perform(actions)
            throw refusal
        }
        let failure: String? = await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
            let token = httpPayments.add(continuation)
            var step = StepBuilder()
            for action in actions {
                switch action {
                case .channel(let channel, let peer, let list): stage(list, channel: channel, peer: peer, into: &step)
                case .protectPeer(let peer): protectPeer(peer)
                case .log(let level, let message, let metadata):
                    logger.log(level: level, "\(message)", metadata: metadata.mapValues { .string($0) })
                case .sendNow, .misbehaved, .negotiation: break
                }
            }
            step.effects.append(.httpPaid(token: token))
            enqueue(step)
        }
        if let failure { throw Pay402Error(.internalError, "the voucher was not stored: \(failure)") }
        return HTTPPayment(accepted: accepted, receipt: receipt)
    }

    /// Whether the voucher of `proof` is stored on its payee channel — an HTTP payment accepted
    /// before a restart whose answer was lost (Specs/a2a.md §4): the payment it made (increment
    /// over the voucher before it in the channel's history, the payee's signed receipt left out),
    /// or nil when the channel holds no voucher of that nonce, amount and signature.
    public func storedHTTPPayment(_ proof: ChannelSchemeProof) throws(NodeError) -> HTTPPayment? {
        let voucher = proof.voucher
        guard let payee = payees[voucher.channelID] else { return nil }
        let rows: [StoredVoucher]
        do { rows = try store.voucherHistory(channel: voucher.channelID, upToNonce: voucher.nonce, limit: 2) } catch {
            throw .internalError("channel \(voucher.channelID) history cannot be read: \(error)")
        }
        guard let row = rows.first, row.nonce == voucher.nonce, row.amount == voucher.amount, row.signature == voucher.signature else {
            return nil
        }
        let view = PaymeshPay402.ChannelView(payee)
        let previous = rows.count > 1 ? rows[1].amount.atomicUnits : 0
        let digest: [UInt8]
        do { digest = try voucher.signingDigest(domain: view.domain) } catch { throw .internalError("a stored voucher has no digest: \(error)") }
        let accepted = AcceptedVoucher(voucher: voucher, payer: view.payer, increment: max(voucher.amount.atomicUnits, previous) - previous,
                                       network: ChannelScheme.network(of: view.domain), digest: digest)
        return HTTPPayment(accepted: accepted, receipt: nil)
    }

    func httpPaymentDurable(_ token: UInt64, failure: String?) {
        httpPayments.take(token)?.resume(returning: failure)
    }

    /// Whether `paymentHash` is one of this node's invoices still waiting for its payment (not paid,
    /// not expired): the L402 issuer hands an offer out again only while this holds.
    public func isInvoiceOpen(_ paymentHash: Hash32) -> Bool {
        guard let invoice = htlcs.invoices[paymentHash] else { return false }
        return now() < invoice.expiresAt
    }
}
