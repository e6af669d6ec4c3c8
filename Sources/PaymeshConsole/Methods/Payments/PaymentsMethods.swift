import PaymeshNode

/// The payments layer's console methods (Specs/console.md §8) over `PaymentsService`, one file per
/// area: channels, pay, streams, ledger, receipts, policy. Money is atomic units as decimal strings,
/// never floating point; refusals carry their Paymesh code (errors.md).
///
/// The `PaymentsService` API it calls: `openChannel`, `views`, `view`, `closeChannel`, `history`,
/// `pay`, `startStream`, `streamUsage`, `stopStream`, `balances`, `escrow`, `nodeAddress`, `fund`,
/// `receiptBundle`, `spendingPolicy`, `setSpendingPolicy`, and `PaymentsService.channelNotFound`.
public struct PaymentsMethods: ConsoleMethodGroup {
    let payments: PaymentsService
    /// `pay request=…` / `pay to=…` (routed payments, console.md §12); nil on a node without gossip.
    let routed: RoutedPayments?

    public init(payments: PaymentsService, routed: RoutedPayments? = nil) {
        self.payments = payments
        self.routed = routed
    }

    public var methods: [ConsoleMethod] { channels + pay + htlc + streams + ledger + receipts + policy }
}
