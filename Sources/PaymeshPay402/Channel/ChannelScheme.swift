import PaymeshCrypto
public import PaymeshMessages

/// The Paymesh channel scheme for x402 (Specs/http402.md §4): names and the network of a domain.
public enum ChannelScheme {
    /// The x402 `scheme` value.
    public static let name = "paymesh-channel"
    /// `maxTimeoutSeconds` the gateway offers by default: a voucher is checked on arrival, so this
    /// only bounds how long a client may take to answer the challenge.
    public static let defaultTimeoutSeconds: UInt32 = 60

    /// CAIP-2 network of a channel domain (§4.1): `eip155:<chainId>` for a chain-backed domain,
    /// `paymesh:local` for chainId 0 (no chain: a local ledger settles).
    public static func network(chainID: UInt64) -> String {
        chainID == 0 ? "paymesh:local" : "eip155:\(chainID)"
    }

    public static func network(of domain: SigningDomain) -> String { network(chainID: domain.chainID ?? 0) }
}

/// The channel scheme's payload (§4.2): one PAYMENT_UPDATE, field for field, as JSON.
struct ChannelPayloadWire: Codable {
    var channelId: String
    var nonce: String
    var amount: String
    var timestamp: String
    var taskId: String?
    var signature: String

    init(_ v: PaymentUpdate) {
        channelId = "0x" + v.channelID.bytes.hexString
        nonce = String(v.nonce)
        amount = v.amount.description
        timestamp = String(v.timestamp)
        taskId = v.taskID
        signature = "0x" + v.signature.bytes.hexString
    }

    /// The voucher, validated as PAYMENT_UPDATE validates it on the wire (Specs/messages.md §4.2).
    func voucher() throws(Pay402Error) -> PaymentUpdate {
        let nonce = try Decimal64.parse(nonce, "nonce")
        // Stores keep nonces as signed 64-bit integers (Specs/messages.md §4.2).
        guard nonce <= MessageLimits.maxVoucherNonce else { throw .malformed("payload: nonce exceeds 2^63 - 1") }
        let timestamp = try Decimal64.parse(timestamp, "timestamp")
        do {
            return try PaymentUpdate(channelID: ChannelID(hex: channelId), nonce: nonce, amount: Amount(decimal: amount),
                                     timestamp: timestamp, taskID: taskId, signature: Signature65(hex: signature))
        } catch {
            throw .malformed("payload: \(error.detail)")
        }
    }
}

/// Canonical decimal uint64 strings (no sign, no leading zero, ≤ 2^64 − 1).
enum Decimal64 {
    static func parse(_ text: String, _ field: String) throws(Pay402Error) -> UInt64 {
        let amount: Amount
        do { amount = try Amount(decimal: text) } catch { throw .malformed("payload: \(field): \(error.detail)") }
        guard amount.atomicUnits <= UInt128(UInt64.max) else { throw .malformed("payload: \(field) exceeds 2^64 - 1") }
        return UInt64(amount.atomicUnits)
    }
}
