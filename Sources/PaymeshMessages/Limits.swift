/// Wire limits of Specs/messages.md, in one place.
public enum MessageLimits {
    /// PAYMENT_UPDATE.task_id, bytes (§ PAYMENT_UPDATE).
    public static let taskIDBytes: ClosedRange<Int> = 1...128
    /// PAYMENT_ACK.reason and NEGOTIATE_REJECT.reason, bytes.
    public static let reasonBytes: ClosedRange<Int> = 0...256
    /// PAYMENT_OPEN.settlement backend id, bytes ("local-ledger", "eip155-escrow", …).
    public static let settlementBytes: ClosedRange<Int> = 1...32
    /// PAYMENT_OPEN.challenge_period, seconds: at least 1 s, at most 365 days.
    public static let challengePeriodSeconds: ClosedRange<UInt64> = 1...31_536_000
    /// HTLC_PROPOSE.onion: the whole Sphinx packet, bytes (Specs/onion.md §2: 1 + 33 + 1300 + 32).
    public static let onionBytes = 1_366
    /// HTLC_PROPOSE.locks and PAYMENT_UPDATE.locks (§4.5, §4.2): at most this many HTLCs held by one
    /// conditional voucher (BOLT 2's max_accepted_htlcs); a channel's own limit is lower.
    public static let maxLocks = 483
    /// HTLC_CANCEL.failure: encrypted failure onion, bytes.
    public static let failureBytes: ClosedRange<Int> = 0...1_024
    /// CHANNEL_ANNOUNCE.fee_ppm: parts per million, at most 100 %.
    public static let feePPM: ClosedRange<UInt64> = 0...1_000_000
    /// CHANNEL_ANNOUNCE.expiry_delta, milliseconds: 1 ms … 30 days.
    public static let expiryDeltaMillis: ClosedRange<UInt64> = 1...2_592_000_000
    /// NEGOTIATE_PROPOSE.service_type, bytes.
    public static let serviceTypeBytes: ClosedRange<Int> = 1...64
    /// NEGOTIATE_PROPOSE.timeout, seconds: 1 s … 1 day.
    public static let negotiationTimeoutSeconds: ClosedRange<UInt64> = 1...86_400
    /// PAYMENT_UPDATE.nonce and PAYMENT_CLOSE.final_nonce: at most 2^63 − 1, so that every nonce a
    /// node accepts is one its store can keep (SQLite INTEGER is signed 64-bit; Specs/storage.md).
    public static let maxVoucherNonce: UInt64 = UInt64(Int64.max)
    /// ERROR.message, bytes.
    public static let errorMessageBytes: ClosedRange<Int> = 0...1_024
    /// PAYMENT_ACK.acks (§4.4.1): at most this many entries, each `[channel_id, nonce]` (3 msgpack
    /// objects), so that the largest coalesced ack stays below the decoder's 4,096 objects (§3.2).
    public static let ackEntries = 1_023
}
