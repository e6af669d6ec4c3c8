public import PaymeshMessages

/// One invoice this node made as payee (`invoices`, schema v7, Specs/storage.md "Invoices and
/// payments"): the preimage it reveals when paid, the signed `pminv1…` string, the terms the final
/// hop checks, and — once paid — what was received, when and on which channel.
public struct InvoiceRecord: Sendable, Hashable {
    public var paymentHash: Hash32
    public var preimage: Hash32
    /// The signed invoice string (`invoice.md`).
    public var invoice: String
    /// nil: any amount.
    public var amount: Amount?
    public var asset: Asset
    public var memo: String
    public var createdMillis: UInt64
    public var expiresAtMillis: UInt64
    public var paid: InvoicePayment?

    public init(paymentHash: Hash32, preimage: Hash32, invoice: String, amount: Amount?, asset: Asset, memo: String,
                createdMillis: UInt64, expiresAtMillis: UInt64, paid: InvoicePayment? = nil) {
        self.paymentHash = paymentHash
        self.preimage = preimage
        self.invoice = invoice
        self.amount = amount
        self.asset = asset
        self.memo = memo
        self.createdMillis = createdMillis
        self.expiresAtMillis = expiresAtMillis
        self.paid = paid
    }
}

/// An invoice was paid: the final hop fulfilled an HTLC of `amount` on `channelID` at `atMillis`.
/// Written in the same request as the channel's HTLC state that records the fulfilment.
public struct InvoicePayment: Sendable, Hashable {
    public var paymentHash: Hash32
    public var amount: Amount
    public var channelID: ChannelID
    public var atMillis: UInt64

    public init(paymentHash: Hash32, amount: Amount, channelID: ChannelID, atMillis: UInt64) {
        self.paymentHash = paymentHash
        self.amount = amount
        self.channelID = channelID
        self.atMillis = atMillis
    }
}

/// One entry of the payer's payment journal (`payments`, schema v7): its id, payment hash and
/// creation time as columns, and the entry itself (status, attempts, routes) as the node's
/// encoding of it (`record`, JSON, Specs/storage.md). Replaced as a whole at every change.
public struct StoredPayment: Sendable, Hashable {
    public var id: [UInt8]
    public var paymentHash: Hash32
    public var createdMillis: UInt64
    public var record: [UInt8]

    public init(id: [UInt8], paymentHash: Hash32, createdMillis: UInt64, record: [UInt8]) {
        self.id = id
        self.paymentHash = paymentHash
        self.createdMillis = createdMillis
        self.record = record
    }
}
