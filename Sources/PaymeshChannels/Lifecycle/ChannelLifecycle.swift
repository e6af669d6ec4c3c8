import PaymeshMessages

/// What happened to a channel: the input of the lifecycle state machine.
public enum ChannelEvent: Sendable, Hashable, CaseIterable {
    /// PAYMENT_ACK accepted for the PAYMENT_OPEN (payer) or the open verified and accepted (payee).
    case openAccepted
    /// The open was refused (PAYMENT_ACK rejected, or the deposit could not be locked).
    case openRejected
    /// A voucher was signed (payer) or accepted (payee).
    case voucher
    /// A cooperative or unilateral close was sent or received (in CLOSING: a unilateral close
    /// replaces an unanswered cooperative proposal).
    case closeStarted
    /// During a unilateral close, a voucher above the close's final state was presented.
    case higherVoucher
    /// The settlement backend reported a failure (the close stays pending and is retried).
    case settlementFailed
    /// The settlement backend confirmed the payout.
    case settlementConfirmed
}

/// The pure transition function of Specs/channels.md §2. Every pair (state, event) not listed is
/// illegal and throws a `ChannelError` whose code says why.
public enum ChannelLifecycle {
    public static func next(_ state: ChannelState, on event: ChannelEvent) throws(ChannelError) -> ChannelState {
        switch (state, event) {
        case (.proposed, .openAccepted): return .open
        case (.proposed, .openRejected): return .settled
        case (.open, .voucher), (.active, .voucher): return .active
        case (.open, .closeStarted), (.active, .closeStarted): return .closing
        // A cooperative proposal left unanswered is replaced by a unilateral close.
        case (.closing, .closeStarted): return .closing
        case (.closing, .higherVoucher), (.disputed, .higherVoucher): return .disputed
        case (.closing, .settlementFailed): return .closing
        case (.disputed, .settlementFailed): return .disputed
        case (.closing, .settlementConfirmed), (.disputed, .settlementConfirmed): return .settled
        default: throw illegal(state, event)
        }
    }

    /// The code of an illegal transition: a second open is 1001, anything else on a channel in the
    /// wrong state is 1002 CHANNEL_NOT_ACTIVE.
    @inline(never)
    static func illegal(_ state: ChannelState, _ event: ChannelEvent) -> ChannelError {
        switch event {
        case .openAccepted, .openRejected: .alreadyExists("\(event) in state \(state): the open was already decided")
        default: .notActive(state, "\(event)")
        }
    }
}
