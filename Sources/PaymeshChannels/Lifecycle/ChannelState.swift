/// The six channel states (AgentPay's names; Specs/channels.md §2).
public enum ChannelState: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    /// The payer signed PAYMENT_OPEN; the payee has not accepted it yet.
    case proposed = "PROPOSED"
    /// The payee accepted the open; no voucher yet.
    case open = "OPEN"
    /// At least one voucher was signed (payer) or accepted (payee).
    case active = "ACTIVE"
    /// A close was started: cooperative (awaiting or holding both signatures) or unilateral
    /// (challenge period running).
    case closing = "CLOSING"
    /// During a unilateral close's challenge period a voucher higher than the close's final state
    /// was presented; it replaces the final state.
    case disputed = "DISPUTED"
    /// Terminal: the settlement backend confirmed the payout (or the open was rejected and the
    /// deposit released).
    case settled = "SETTLED"

    public var description: String { rawValue }

    /// New vouchers may be signed or accepted.
    public var acceptsPayments: Bool { self == .open || self == .active }
}
