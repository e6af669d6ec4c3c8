import PaymeshMessages

/// A signed cumulative voucher as the store keeps it: the latest one per channel in `channels`,
/// every accepted one in the append-only `voucher_history`.
public struct StoredVoucher: Sendable, Hashable {
    public var channel: ChannelID
    /// Strictly increasing per channel, 1 or more; at most 2^63 − 1 (SQLite INTEGER).
    public var nonce: UInt64
    /// Cumulative amount paid on the channel so far; never decreases.
    public var amount: Amount
    public var signature: Signature65
    public var taskID: String?
    /// Unix time in milliseconds, supplied by the caller (the store reads no clock).
    public var timestampMillis: Int64

    public init(channel: ChannelID, nonce: UInt64, amount: Amount, signature: Signature65, taskID: String? = nil, timestampMillis: Int64) {
        self.channel = channel
        self.nonce = nonce
        self.amount = amount
        self.signature = signature
        self.taskID = taskID
        self.timestampMillis = timestampMillis
    }
}
