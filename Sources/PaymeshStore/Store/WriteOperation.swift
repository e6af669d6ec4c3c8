import PaymeshMessages

/// One write request for the group-commit writer. Each is all-or-nothing: when it is refused
/// (`StoreError.isRejectedRequest`) nothing of it is written and the rest of the batch commits.
enum WriteOperation: Sendable {
    case recordVoucher(StoredVoucher)
    /// Many vouchers of many channels, each checked against the one before it (the node's hot path).
    case recordVouchers([StoredVoucher])
    case insertChannel(ChannelRecord)
    case updateChannel(ChannelID, status: ChannelStatus, lockedAmount: Amount?, closeInfo: ChannelCloseInfo?)
    /// A channel write and its metadata snapshot in one request (both or neither).
    case channelWithMetadata(ChannelWrite, key: String, value: [UInt8])
    case appendReceipt(ReceiptRecord)
    case appendLedger([LedgerEntry])
    case setMetadata(key: String, value: [UInt8]?)
    case importHistory([StoredVoucher])
    /// Channels' whole HTLC states, each replacing the previous one (Specs/storage.md "HTLCs"), all
    /// or none: a forward's incoming and outgoing channel in one request.
    case saveHTLCs([StoredHTLCChannel])
    /// A new invoice with its preimage (schema v7).
    case insertInvoice(InvoiceRecord)
    /// A payment journal entry, replacing the previous one of its id (schema v7).
    case savePayment(StoredPayment)
    /// Route outcomes the payment journal has taken (schema v8).
    case deleteRouteOutcomes([Hash32])
    /// A payment's final journal entry, the outcomes it takes and a metadata value, all or none.
    case finishPayment(StoredPayment, takingOutcomes: [Hash32], key: String, value: [UInt8])

    enum ChannelWrite: Sendable {
        case insert(ChannelRecord)
        case update(ChannelID, status: ChannelStatus, lockedAmount: Amount?, closeInfo: ChannelCloseInfo?)
    }

    /// A rough payload size, for the batch byte budget.
    var approximateBytes: Int {
        switch self {
        case .recordVoucher(let v): 160 + (v.taskID?.utf8.count ?? 0)
        case .recordVouchers(let vouchers): 160 * vouchers.count
        case .insertChannel: 400
        case .updateChannel(_, _, _, let close): 100 + (close?.reason.utf8.count ?? 0)
        case .channelWithMetadata(_, let key, let value): 400 + key.utf8.count + value.count
        case .appendReceipt(let r): 200 + r.json.utf8.count
        case .appendLedger(let entries): 120 * entries.count
        case .setMetadata(let key, let value): key.utf8.count + (value?.count ?? 0)
        case .importHistory(let vouchers): 160 * vouchers.count
        case .saveHTLCs(let channels):
            channels.reduce(0) { n, c in
                n + 200 + 200 * c.htlcs.count + 100 * c.paidInvoices.count + 100 * c.routeOutcomes.count + c.payments.reduce(0) { $0 + 100 + $1.record.count }
            }
        case .insertInvoice(let r): 300 + r.invoice.utf8.count + r.memo.utf8.count
        case .savePayment(let p): 100 + p.record.count
        case .deleteRouteOutcomes(let hashes): 40 * hashes.count
        case .finishPayment(let p, let hashes, let key, let value): 100 + p.record.count + 40 * hashes.count + key.utf8.count + value.count
        }
    }
}
