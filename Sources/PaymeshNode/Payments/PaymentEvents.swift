import PaymeshChannels
import PaymeshMessages

/// Channel notifications: bookkeeping for `pay`, `channel.open` and `channel.close`, logs, and
/// typed `NodeEvent.channel` events for whoever subscribes (published only while someone does).
extension PaymentsService {
    func handle(_ n: ChannelNotification) {
        defer { wakeWaiters(channel: n.channelID) }
        switch n {
        case .paymentAcknowledged(let id, let nonce, _):
            outcomes.acknowledged(id, through: nonce, at: nanos())
        case .paymentRejected(let id, let nonce, let code, let reason):
            outcomes.rejected(id, nonce: nonce, code: code, reason: reason)
            logger.notice("payment rejected", metadata: ["channel": "\(id)", "nonce": "\(nonce)", "code": "\(code)"])
        case .paymentReceived:
            break
        case .openRejected(let id, let code, let reason):
            outcomes.openFailures[id] = Rejection(nonce: 0, code: code, reason: reason)
            logger.notice("channel open refused", metadata: ["channel": "\(id)", "code": "\(code)", "reason": "\(reason ?? "")"])
        case .closeRejected(let id, let code, let reason):
            outcomes.closeFailures[id] = Rejection(nonce: 0, code: code, reason: reason)
            logger.notice("close refused", metadata: ["channel": "\(id)", "code": "\(code)", "reason": "\(reason ?? "")"])
        default:
            logger.info("channel event", metadata: ["event": "\(n)"])
        }
        if case .stateChanged = n { channelChanges.signal() }
        if events.hasSubscribers { events.publish(.channel(n)) }
    }
}

extension ChannelNotification {
    /// The channel the notification is about (every case names one).
    var channelID: ChannelID {
        switch self {
        case .stateChanged(let id, _, _), .openRejected(let id, _, _), .paymentAcknowledged(let id, _, _),
             .paymentRejected(let id, _, _, _), .paymentReceived(let id, _, _, _, _), .peerMessageRejected(let id, _, _),
             .stateRecovered(let id, _, _), .closeRejected(let id, _, _), .disputed(let id, _, _),
             .settlementSubmitted(let id, _), .settlementFailed(let id, _), .settled(let id, _, _, _):
            id
        }
    }
}
