import PaymeshChannels
import PaymeshMessages

/// Channel notifications: bookkeeping for `pay`, `channel.open` and `channel.close`, logs, and
/// typed `NodeEvent.channel` events for whoever subscribes (published only while someone does).
extension PaymentsService {
    func handle(_ n: ChannelNotification) {
        defer { wakeWaiters(channel: n.channelID) }
        switch n {
        case .paymentAcknowledged(let id, let nonce, let cumulative):
            outcomes.acknowledged(id, through: nonce, at: nanos())
            if let asset = payers[id]?.terms.open.asset {
                paymentMetrics.acknowledged(id, asset: asset, nonce: nonce, amount: cumulative)
            }
        case .paymentRejected(let id, let nonce, let code, let reason):
            outcomes.rejected(id, nonce: nonce, code: code, reason: reason)
            paymentMetrics.rejected(code)
            logger.notice("payment rejected", metadata: ["channel": "\(id)", "nonce": "\(nonce)", "code": "\(code)"])
        case .paymentReceived(let id, _, let increment, _, _):
            if let asset = payees[id]?.terms.open.asset { paymentMetrics.received(asset: asset, increment: increment) }
        case .peerMessageRejected(_, let code, _):
            paymentMetrics.refusedPeerMessage(code)
            logger.info("channel event", metadata: ["channel": "\(n.channelID)", "event": "\(logText(n))"])
        case .settled(let id, _, _, _):
            paymentMetrics.forget(id)
            precheck.forget(id)
            logger.info("channel event", metadata: ["channel": "\(n.channelID)", "event": "\(logText(n))"])
        case .openRejected(let id, let code, let reason):
            outcomes.openFailures[id] = Rejection(nonce: 0, code: code, reason: reason)
            logger.notice("channel open refused", metadata: ["channel": "\(id)", "code": "\(code)", "reason": "\(reason ?? "")"])
        case .closeRejected(let id, let code, let reason):
            outcomes.closeFailures[id] = Rejection(nonce: 0, code: code, reason: reason)
            logger.notice("close refused", metadata: ["channel": "\(id)", "code": "\(code)", "reason": "\(reason ?? "")"])
        default:
            logger.info("channel event", metadata: ["channel": "\(n.channelID)", "event": "\(logText(n))"])
        }
        if case .stateChanged = n { channelChanges.signal() }
        if events.hasSubscribers { events.publish(.channel(n)) }
    }
}

extension PaymentsService {
    /// A notification for a log line, in plain words with amounts in the channel's asset (no
    /// Swift enum dump, whose quoted strings end up quoted twice in `key="value"` fields).
    func logText(_ n: ChannelNotification) -> String {
        func money(_ atomic: UInt128) -> String {
            snapshot(n.channelID).map { Amount(atomic).formatted($0.terms.asset) } ?? "\(atomic) atomic units"
        }
        switch n {
        case .stateChanged(_, let from, let to): return "state \(from.rawValue) → \(to.rawValue)"
        case .openRejected(_, let code, let reason): return "open refused: \(code) \(reason ?? "")"
        case .paymentAcknowledged(_, let nonce, let cumulative): return "acknowledged through nonce \(nonce), \(money(cumulative))"
        case .paymentRejected(_, let nonce, let code, let reason): return "voucher \(nonce) refused: \(code) \(reason ?? "")"
        case .paymentReceived(_, let nonce, let increment, let cumulative, _):
            return "received voucher \(nonce): \(money(increment)), cumulative \(money(cumulative))"
        case .peerMessageRejected(_, let code, let detail): return "peer message refused: \(code) \(detail)"
        case .stateRecovered(_, let nonce, let cumulative): return "recovered the peer's newer state: nonce \(nonce), \(money(cumulative))"
        case .closeRejected(_, let code, let reason): return "close refused: \(code) \(reason ?? "")"
        case .disputed(_, let nonce, let cumulative): return "disputed with nonce \(nonce), \(money(cumulative))"
        case .settlementSubmitted(_, let id): return "settlement submitted: \(id)"
        case .settlementFailed(_, let reason): return "settlement failed: \(reason)"
        case .settled(_, let payee, let refund, let offChain):
            return "settled: payee \(money(payee)), refund \(money(refund))\(offChain ? " (off-chain)" : "")"
        }
    }

    /// The payer signed a voucher of `amount` on `id` (`pay` and streams).
    func countSigned(_ id: ChannelID, amount: UInt128) {
        guard let p = payers[id], let voucher = p.latestVoucher else { return }
        paymentMetrics.signed(id, asset: p.terms.open.asset, amount: amount, nonce: voucher.nonce, cumulative: p.paidAmount)
    }
}

extension ChannelNotification {
    /// The channel the notification is about (every case names one).
    public var channelID: ChannelID {
        switch self {
        case .stateChanged(let id, _, _), .openRejected(let id, _, _), .paymentAcknowledged(let id, _, _),
             .paymentRejected(let id, _, _, _), .paymentReceived(let id, _, _, _, _), .peerMessageRejected(let id, _, _),
             .stateRecovered(let id, _, _), .closeRejected(let id, _, _), .disputed(let id, _, _),
             .settlementSubmitted(let id, _), .settlementFailed(let id, _), .settled(let id, _, _, _):
            id
        }
    }
}
