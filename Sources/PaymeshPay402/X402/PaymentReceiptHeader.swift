public import PaymeshChannels
public import PaymeshCrypto
public import PaymeshMessages

/// The `X-PAYMENT-RESPONSE` (v1) / `PAYMENT-RESPONSE` (v2) header of a paid answer (Specs/http402.md
/// §4.4): base64(JSON) in x402's SettleResponse shape, with the voucher that paid and the payee's
/// signed receipt in `extra`.
public struct PaymentReceiptHeader: Sendable, Hashable {
    public var accepted: AcceptedVoucher
    /// The payee's receipt for the voucher (Specs/channels.md §10), when it issued one.
    public var receipt: Receipt?

    public init(accepted: AcceptedVoucher, receipt: Receipt? = nil) {
        self.accepted = accepted
        self.receipt = receipt
    }

    /// The header for a proof of `x402Version` (1: X-PAYMENT-RESPONSE, 2: PAYMENT-RESPONSE).
    public func header(x402Version: Int) -> HTTPHeaderField {
        HTTPHeaderField(x402Version == 1 ? Pay402Header.xPaymentResponse : Pay402Header.paymentResponse, value)
    }

    /// base64(JSON{success, transaction, network, payer, amount, extra}).
    public var value: String { JSONCodec.header(settleResponse) }

    /// The receipt as x402's SettleResponse object (also an A2A task's `x402.payment.receipts`
    /// entry, kept in its durable task record: Specs/a2a.md §4).
    public var settleResponse: SettleResponse {
        let v = accepted.voucher
        let receiptWire = receipt.map {
            ReceiptWire(seq: String($0.seq), hash: "0x" + $0.hash.hexString, prevHash: "0x" + $0.prevHash.hexString,
                        timestamp: String($0.timestamp), signature: "0x" + $0.signature.bytes.hexString)
        }
        return SettleResponse(
            success: true, transaction: "0x" + accepted.digest.hexString, network: accepted.network,
            payer: accepted.payer.description, amount: String(accepted.increment),
            extra: ResponseExtraWire(channelId: "0x" + v.channelID.bytes.hexString, nonce: String(v.nonce),
                                     cumulative: v.amount.description, receipt: receiptWire))
    }
}

/// x402's SettleResponse in the shape of Specs/http402.md §4.4 (strings for every number).
public struct SettleResponse: Codable, Sendable, Hashable {
    var success: Bool
    var transaction: String
    var network: String
    var payer: String
    var amount: String
    var extra: ResponseExtraWire
}

struct ResponseExtraWire: Codable, Sendable, Hashable {
    var channelId: String
    var nonce: String
    var cumulative: String
    var receipt: ReceiptWire?
}

struct ReceiptWire: Codable, Sendable, Hashable {
    var seq: String
    var hash: String
    var prevHash: String
    var timestamp: String
    var signature: String
}
