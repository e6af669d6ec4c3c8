import Foundation
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshStore

/// How a `ChannelSnapshot` maps onto the store (Specs/storage.md, "Payments layer").
///
/// The `channels` row holds the terms, the status and the latest voucher: the only part that
/// changes on the hot path (one voucher write per batch). Everything else a restart needs and that
/// changes rarely (the signed PAYMENT_OPEN, the exact state, the close record, the receipt chain
/// head, the deposit lock flag) is `ChannelExtras`, JSON in `metadata` under `channel/<id hex>`.
/// Extras and the row are written in one store request, so a row never lacks them.
///
/// The state has one source of truth: the row's `state` column (`ChannelPersistence.status`
/// derives it from the machine's state, `ChannelPersistence.state` the other way). Extras written
/// before issue 8 also hold a `state`; at load it must agree with the row (else `StoreError.inconsistent`).
struct ChannelExtras: Codable, Equatable, Sendable {
    /// The PAYMENT_OPEN frame (hex), signed by the payer.
    var open: String
    /// Pre-issue-8 files only: the `ChannelState` raw value (ACTIVE as OPEN). Never written now.
    var state: String?
    var depositLocked: Bool
    var lockedAmount: String
    var receiptSeq: UInt64
    var receiptHead: String
    var close: CloseExtras?

    struct CloseExtras: Codable, Equatable, Sendable {
        var message: String
        var initiatedLocally: Bool
        var completed: Bool
        var challengeDeadline: UInt64?
        var finalNonce: UInt64
        var finalAmount: String
        var payoutRequested: Bool
        var settlementID: String?
    }

    static func key(_ id: ChannelID) -> String { "channel/" + id.bytes.hexString }

    init(_ s: ChannelSnapshot) throws(PersistenceError) {
        open = try Self.frameHex(.paymentOpen(s.terms.open))
        state = nil
        depositLocked = s.depositLocked
        lockedAmount = String(s.lockedAmount)
        receiptSeq = s.receiptSeq
        receiptHead = s.receiptHead.hexString
        if let c = s.close {
            close = CloseExtras(message: try Self.frameHex(.paymentClose(c.message)), initiatedLocally: c.initiatedLocally,
                                completed: c.completed, challengeDeadline: c.challengeDeadline, finalNonce: c.finalNonce,
                                finalAmount: String(c.finalAmount), payoutRequested: c.payoutRequested, settlementID: c.settlementID)
        } else {
            close = nil
        }
    }

    /// The JSON stored in metadata; an encoding failure is an error (never an empty value).
    func encoded() throws(PersistenceError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        do { return Array(try encoder.encode(self)) } catch { throw PersistenceError("channel extras do not encode: \(error)") }
    }

    static func decode(_ bytes: [UInt8]) throws -> ChannelExtras { try JSONDecoder().decode(Self.self, from: Data(bytes)) }

    static func frameHex(_ m: Message) throws(PersistenceError) -> String {
        do { return try PaymentFrame.encode(m).hexString } catch { throw PersistenceError("a stored message does not encode: \(error)") }
    }

    static func message(hex: String) throws -> Message {
        guard let bytes = [UInt8](hex: hex) else { throw PersistenceError("bad hex in channel extras") }
        var codec = PaymentStreamCodec()
        codec.feed(bytes)
        guard let m = try codec.nextMessage() else { throw PersistenceError("truncated message in channel extras") }
        return m
    }
}

struct PersistenceError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

enum ChannelPersistence {
    /// The stored `state` column of a machine state: the one mapping (`state(_:hasVoucher:)` is its inverse).
    static func status(_ state: ChannelState) -> ChannelStatus {
        switch state {
        case .proposed: .opening
        case .open, .active: .open
        case .closing: .closing
        case .disputed: .disputed
        case .settled: .settled
        }
    }

    /// The machine state of a stored row: `open` is ACTIVE once the channel has a voucher. `closed`
    /// (never written by a node since v4) names no state.
    static func state(_ status: ChannelStatus, hasVoucher: Bool) -> ChannelState? {
        switch status {
        case .opening: .proposed
        case .open: hasVoucher ? .active : .open
        case .closing: .closing
        case .disputed: .disputed
        case .settled: .settled
        case .closed: nil
        }
    }

    static func stored(_ v: PaymentUpdate) -> StoredVoucher {
        StoredVoucher(channel: v.channelID, nonce: v.nonce, amount: v.amount, signature: v.signature, taskID: v.taskID,
                      timestampMillis: Int64(clamping: v.timestamp))
    }

    static func closeInfo(_ s: ChannelSnapshot) -> ChannelCloseInfo? {
        guard s.state == .settled || s.state == .disputed, let close = s.close else {
            if s.state == .settled {
                return ChannelCloseInfo(reason: "openRejected", closedAtMillis: Int64(clamping: s.updatedAt), finalNonce: 0, finalAmount: .zero)
            }
            return nil
        }
        let reason = s.state == .disputed ? "disputed" : close.completed ? "cooperative" : "unilateral"
        return ChannelCloseInfo(reason: reason, closedAtMillis: Int64(clamping: s.updatedAt), finalNonce: close.finalNonce,
                                finalAmount: Amount(close.finalAmount), settlementReference: close.settlementID)
    }

    static func record(_ s: ChannelSnapshot) -> ChannelRecord {
        let t = s.terms
        let local = s.role == .payer ? t.payer : t.payee
        let remote = s.role == .payer ? t.payee : t.payer
        return ChannelRecord(
            id: t.channelID, role: s.role == .payer ? .payer : .payee, localAddress: local, remoteAddress: remote,
            asset: t.asset, deposit: t.open.totalDeposit, challengePeriodSeconds: t.open.challengePeriodSeconds,
            settlementBackend: t.open.settlement, chainID: t.open.chainID, verifyingContract: t.open.verifyingContract,
            status: status(s.state), openSignature: t.open.signature, openedAtMillis: Int64(clamping: t.open.timestamp),
            latestVoucher: s.latestVoucher.map(stored), lockedAmount: Amount(s.lockedAmount), closeInfo: closeInfo(s))
    }

    /// Rebuilds the snapshot from the row (latest voucher) and its extras (everything else).
    static func snapshot(_ r: ChannelRecord, _ x: ChannelExtras) throws -> ChannelSnapshot {
        guard case .paymentOpen(let open) = try ChannelExtras.message(hex: x.open), open.channelID == r.id else {
            throw PersistenceError("channel extras hold no matching PAYMENT_OPEN")
        }
        guard let state = state(r.status, hasVoucher: r.latestVoucher != nil) else {
            throw StoreError.inconsistent("channel \(r.id): stored state '\(r.status.rawValue)' names no channel state")
        }
        if let legacy = x.state {
            guard let old = ChannelState(rawValue: legacy), status(old) == r.status else {
                throw StoreError.inconsistent("channel \(r.id): stored state '\(r.status.rawValue)' disagrees with its snapshot's \(legacy)")
            }
        }
        var latest: PaymentUpdate?
        if let v = r.latestVoucher {
            latest = try PaymentUpdate(channelID: r.id, nonce: v.nonce, amount: v.amount, timestamp: UInt64(max(0, v.timestampMillis)),
                                       taskID: v.taskID, signature: v.signature)
        }
        var close: CloseRecord?
        if let c = x.close {
            guard case .paymentClose(let message) = try ChannelExtras.message(hex: c.message) else {
                throw PersistenceError("channel extras hold no PAYMENT_CLOSE")
            }
            close = CloseRecord(message: message, initiatedLocally: c.initiatedLocally, completed: c.completed,
                                challengeDeadline: c.challengeDeadline, finalNonce: c.finalNonce,
                                finalAmount: try Amount(decimal: c.finalAmount).atomicUnits, payoutRequested: c.payoutRequested,
                                settlementID: c.settlementID)
        }
        guard let head = [UInt8](hex: x.receiptHead), head.count == 32 else { throw PersistenceError("bad receipt head") }
        let role: PaymeshChannels.ChannelRole = r.role == .payer ? .payer : .payee
        return ChannelSnapshot(role: role, terms: ChannelTerms(open: open), state: state, latestVoucher: latest,
                               ackedNonce: role == .payee ? (latest?.nonce ?? 0) : 0,
                               lockedAmount: try Amount(decimal: x.lockedAmount).atomicUnits, close: close,
                               receiptSeq: x.receiptSeq, receiptHead: head, depositLocked: x.depositLocked,
                               updatedAt: UInt64(max(0, r.openedAtMillis)))
    }
}
