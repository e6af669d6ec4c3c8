import Foundation
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshStore

/// The console's read calls and the ledger and policy calls: answered from the channel book, the
/// store and the ledger; none of them changes a channel.
extension PaymentsService {
    // MARK: Queries

    public func view(_ id: ChannelID) -> ChannelView? {
        if let p = payers[id] {
            return ChannelView(snapshot: p.snapshot, peer: p.terms.payee, ackedNonce: p.ackedNonce, ackedAmount: p.ackedAmount,
                               unacknowledged: p.unacknowledgedCount)
        }
        if let p = payees[id] {
            return ChannelView(snapshot: p.snapshot, peer: p.terms.payer, ackedNonce: p.latestVoucher?.nonce ?? 0,
                               ackedAmount: p.receivedAmount, unacknowledged: 0)
        }
        return nil
    }

    /// Every channel, oldest first, without the opens that failed (`ChannelSnapshot.neverOpened`):
    /// a refused `channel.open` leaves no channel behind in the list (its rows stay in the store
    /// as the record of the deposit lock and its release).
    public func views() -> [ChannelView] {
        (Array(payers.keys) + Array(payees.keys)).compactMap(view).filter { !$0.snapshot.neverOpened }
            .sorted { $0.snapshot.terms.open.timestamp < $1.snapshot.terms.open.timestamp }
    }

    /// The append-only voucher log of a channel (payer: vouchers signed; payee: accepted).
    public func history(_ id: ChannelID, after: UInt64, limit: Int) throws(NodeError) -> [StoredVoucher] {
        guard snapshot(id) != nil else { throw Self.channelNotFound(id) }
        // Checked (quick_check and ordering): damage is an error, never a shorter list.
        do { return try store.verifiedVoucherHistory(channel: id, afterNonce: after, limit: limit) } catch {
            throw .internalError("channel \(id) history cannot be read: \(error)")
        }
    }

    /// The payee's signed receipts of a channel as the exportable bundle (Specs/channels.md §10.3).
    public func receiptBundle(_ id: ChannelID) throws(NodeError) -> ReceiptBundle {
        guard let s = snapshot(id) else { throw Self.channelNotFound(id) }
        let records: [ReceiptRecord]
        do { records = try store.receipts(channel: id) } catch { throw .internalError("store: \(error)") }
        var receipts: [Receipt] = []
        for r in records {
            guard let r = try? JSONDecoder().decode(Receipt.self, from: Data(r.json.utf8)) else {
                throw .internalError("stored receipt \(r.seq) of \(id) does not decode")
            }
            receipts.append(r)
        }
        return ReceiptBundle(terms: s.terms, receipts: receipts)
    }

    // MARK: Ledger and policy

    /// Credits `amount` to this node's wallet. Refused with 1104 before anything is written when the
    /// balance would pass 2^128 − 1 (and by the store, should two credits race past that check).
    /// An asset id not in normalised form, or a known id with other decimals, is refused with
    /// 1106 ASSET_MISMATCH; the first funding of an id registers it.
    public func fund(asset: Asset, amount: UInt128) async throws(NodeError) {
        let registered: Bool
        do { registered = try book.useAsset(asset) } catch { throw Self.nodeError(error) }
        do { try await credit(asset: asset, amount: amount) } catch {
            if registered { book.forgetAsset(asset.id) }
            throw error
        }
    }

    /// The decimals this node's asset registry holds for `id` (normalised), nil when unknown.
    public func assetDecimals(_ id: String) -> UInt8? { book.assets.decimals(of: id) }

    /// The registry: decimals by normalised asset id.
    public var registeredAssets: [String: UInt8] { book.assets.decimals }

    private func credit(asset: Asset, amount: UInt128) async throws(NodeError) {
        let balance: UInt128
        do { balance = try ledger.books.balance(owner: me, assetID: asset.id).atomicUnits } catch {
            throw .internalError("ledger: \(error)")
        }
        guard !balance.addingReportingOverflow(amount).overflow else { throw Self.fundOverflow(asset, balance) }
        do { try await ledger.fund(owner: me, asset: asset, amount: amount, now: now()) } catch {
            if error.isBalanceOverflow { throw Self.fundOverflow(asset, balance) }
            throw .internalError("ledger: \(error)")
        }
    }

    static func fundOverflow(_ asset: Asset, _ balance: UInt128) -> NodeError {
        .paymesh(.invalidAmount,
                 "the \(asset.id) balance (\(balance)) plus this amount would pass 2^128 - 1; nothing was credited")
    }

    public func balances() throws(NodeError) -> [LedgerBalance] {
        do { return try ledger.books.balances() } catch { throw .internalError("ledger: \(error)") }
    }

    public func escrow(_ id: ChannelID) -> UInt128? { try? ledger.books.escrow(channel: id).atomicUnits }

    public func spendingPolicy() -> (SpendingPolicy, [String: SpendingGuard]) { (book.policy, book.guards) }

    public func setSpendingPolicy(_ p: SpendingPolicy) async throws(NodeError) {
        do { try await store.setMetadata(try PolicyRecord.encode(p), forKey: PolicyRecord.metadataKey) } catch {
            throw .internalError("store: \(error)")
        }
        book.setPolicy(p)
    }

    public var nodeAddress: EthereumAddress { me }

    /// Whether the store commits (getinfo's `store`): ok, degraded (a transient failure such as a
    /// full disk; writes are retried) or stopped (a damaged file; nothing is acknowledged).
    public nonisolated var storeHealth: StoreHealth { store.health }
    public nonisolated var storePath: String { store.path }
    /// The store's group-commit totals since the node started.
    public nonisolated var storeStatistics: StoreStatistics { store.statistics }
}
