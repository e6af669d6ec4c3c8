import Foundation
import PaymeshChannels
import PaymeshMessages
import PaymeshStore

/// What `channel.open` asks for (a struct: see `PayRequest`).
public struct OpenRequest: Sendable {
    public var peer: Address
    public var asset: Asset
    public var deposit: UInt128
    public var challengePeriodSeconds: UInt64
    public var chainID: UInt64
    public var timeoutMillis: UInt64

    public init(peer: Address, asset: Asset, deposit: UInt128, challengePeriodSeconds: UInt64 = 3_600, chainID: UInt64 = 0,
                timeoutMillis: UInt64 = 15_000) {
        self.peer = peer
        self.asset = asset
        self.deposit = deposit
        self.challengePeriodSeconds = challengePeriodSeconds
        self.chainID = chainID
        self.timeoutMillis = timeoutMillis
    }
}

/// A channel as the console shows it.
public struct ChannelView: Sendable {
    public var snapshot: ChannelSnapshot
    public var peer: Address
    /// Payer: highest acknowledged voucher; payee: the latest accepted one.
    public var ackedNonce: UInt64
    public var ackedAmount: UInt128
    public var unacknowledged: Int
}

extension PaymentsService {
    // MARK: Opening and closing

    /// Proposes a channel to a connected peer: locks the deposit on the local ledger, sends the
    /// signed PAYMENT_OPEN and returns once the payee accepted it (OPEN) or refused it.
    public func openChannel(_ r: OpenRequest) async throws(NodeError) -> ChannelView {
        guard r.peer != me else { throw .invalidParams("cannot open a channel to this node itself") }
        guard await peers.connection(to: r.peer.ethereumAddress) != nil else { throw .peerNotConnected(r.peer.ethereumAddress.description) }
        let proposed = payers.values.filter { $0.state == .proposed && $0.terms.payee == r.peer }.count
        guard proposed < configuration.maxProposedChannelsPerPeer else {
            throw .paymesh(code: Int(PaymeshErrorCode.channelLimitExceeded.rawValue), name: "CHANNEL_LIMIT_EXCEEDED",
                           "\(proposed) channels to this peer are still waiting for its answer (limit \(configuration.maxProposedChannelsPerPeer))")
        }
        var rng = SystemRandomNumberGenerator()
        let salt = (0..<32).map { _ in UInt8.random(in: 0...255, using: &rng) }
        let (channel, actions): (PayerChannel, [ChannelAction])
        do {
            (channel, actions) = try PayerChannel.open(key: key, payee: r.peer, asset: r.asset, deposit: r.deposit,
                                                       challengePeriodSeconds: r.challengePeriodSeconds, chainID: r.chainID,
                                                       salt: salt, now: Self.now())
        } catch {
            throw Self.nodeError(error)
        }
        let id = channel.channelID
        payers[id] = channel
        protectPeer(r.peer)
        if guards[r.asset.id] == nil { guards[r.asset.id] = SpendingGuard(policy: policy) }
        logger.info("opening channel", metadata: ["channel": "\(id)", "payee": "\(r.peer)", "deposit": "\(r.deposit)", "asset": "\(r.asset)"])
        perform(actions, channel: id, peer: r.peer)
        // A refused open moves the machine to SETTLED before its refusal is recorded (the
        // notification follows the durable write): wait for the reason, not only the state.
        let outcome = await waitFor(id, timeoutMillis: r.timeoutMillis) { [self] s in
            s.state != .proposed && (s.state != .settled || openFailures[id] != nil)
        }
        guard let view = view(id) else { throw Self.channelNotFound(id) }
        if let failure = openFailures.removeValue(forKey: id) {
            throw .paymesh(code: Int(failure.code.rawValue), name: failure.code.name ?? "UNKNOWN_ERROR",
                           "channel \(id) refused: \(failure.reason ?? "")")
        }
        guard view.snapshot.state != .settled else {
            throw .paymesh(code: 1003, name: "CHANNEL_DEPOSIT_INVALID", "channel \(id) was refused (no reason recorded)")
        }
        guard outcome else { throw .paymesh(code: 1502, name: "INTERNAL_ERROR", "no answer to the open of \(id) yet (still PROPOSED)") }
        return view
    }

    /// Starts a cooperative close (waits until SETTLED when `wait`) or a unilateral one (returns
    /// CLOSING with the challenge deadline).
    public func closeChannel(_ id: ChannelID, cooperative: Bool, wait: Bool, timeoutMillis: UInt64) async throws(NodeError) -> ChannelView {
        guard let peer = peerOf(id) else { throw Self.channelNotFound(id) }
        let now = Self.now()
        let actions: [ChannelAction]
        do {
            if payers[id] != nil {
                actions = cooperative ? try payers[id]!.closeCooperatively(now: now) : try payers[id]!.closeUnilaterally(now: now)
            } else {
                actions = cooperative ? try payees[id]!.closeCooperatively(now: now) : try payees[id]!.closeUnilaterally(now: now)
            }
        } catch {
            throw Self.nodeError(error)
        }
        closeFailures[id] = nil
        perform(actions, channel: id, peer: peer)
        if cooperative && wait {
            let settled = await waitFor(id, timeoutMillis: timeoutMillis) { $0.state == .settled }
            if !settled, let failure = closeFailures.removeValue(forKey: id) {
                throw .paymesh(code: Int(failure.code.rawValue), name: failure.code.name ?? "UNKNOWN_ERROR",
                               "close refused: \(failure.reason ?? "")")
            }
        }
        guard let v = view(id) else { throw Self.channelNotFound(id) }
        return v
    }

    /// Polls the channel every 5 ms until `condition` holds (or a refusal is recorded).
    func waitFor(_ id: ChannelID, timeoutMillis: UInt64, _ condition: (ChannelSnapshot) -> Bool) async -> Bool {
        let deadline = Self.nanos() + timeoutMillis * 1_000_000
        while Self.nanos() < deadline {
            guard let s = snapshot(id) else { return false }
            if condition(s) { return true }
            if openFailures[id] != nil || closeFailures[id] != nil { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return snapshot(id).map(condition) ?? false
    }

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

    public func views() -> [ChannelView] {
        (Array(payers.keys) + Array(payees.keys)).compactMap(view).sorted { $0.snapshot.terms.open.timestamp < $1.snapshot.terms.open.timestamp }
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
    public func fund(asset: Asset, amount: UInt128) async throws(NodeError) {
        let balance: UInt128
        do { balance = try ledger.books.balance(owner: me, assetID: asset.id).atomicUnits } catch {
            throw .internalError("ledger: \(error)")
        }
        guard !balance.addingReportingOverflow(amount).overflow else { throw Self.fundOverflow(asset, balance) }
        do { try await ledger.fund(owner: me, asset: asset, amount: amount, now: Self.now()) } catch {
            if error.isBalanceOverflow { throw Self.fundOverflow(asset, balance) }
            throw .internalError("ledger: \(error)")
        }
    }

    static func fundOverflow(_ asset: Asset, _ balance: UInt128) -> NodeError {
        .paymesh(code: Int(PaymeshErrorCode.invalidAmount.rawValue), name: "INVALID_AMOUNT",
                 "the \(asset.id) balance (\(balance)) plus this amount would pass 2^128 - 1; nothing was credited")
    }

    public func balances() throws(NodeError) -> [LedgerBalance] {
        do { return try ledger.books.balances() } catch { throw .internalError("ledger: \(error)") }
    }

    public func escrow(_ id: ChannelID) -> UInt128? { try? ledger.books.escrow(channel: id).atomicUnits }

    public func spendingPolicy() -> (SpendingPolicy, [String: SpendingGuard]) { (policy, guards) }

    public func setSpendingPolicy(_ p: SpendingPolicy) async throws(NodeError) {
        do { try await store.setMetadata(try PolicyRecord.encode(p), forKey: PolicyRecord.metadataKey) } catch {
            throw .internalError("store: \(error)")
        }
        policy = p
        for asset in Array(guards.keys) { guards[asset]!.update(p) }
    }

    public var nodeAddress: Address { me }

    /// Whether the store commits (getinfo's `store`): ok, degraded (a transient failure such as a
    /// full disk; writes are retried) or stopped (a damaged file; nothing is acknowledged).
    public nonisolated var storeHealth: StoreHealth { store.health }
    public nonisolated var storePath: String { store.path }
}
