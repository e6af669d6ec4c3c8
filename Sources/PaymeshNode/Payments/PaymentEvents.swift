import PaymeshChannels
import PaymeshMessages

/// Channel notifications as console events (`subscribe`, topics `payment` and `channel`) and logs.
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
            let event = Self.event(n)
            logger.info("\(event.type)", metadata: event.data.mapValues { "\($0)" })
        }
        if events.subscriberCount > 0 { events.publish(Self.event(n)) }
    }

    static func event(_ n: ChannelNotification) -> NodeEvent {
        func code(_ c: PaymeshErrorCode) -> [String: JSONValue] { ["code": JSONValue(c.rawValue), "name": JSONValue(c.name ?? "UNKNOWN")] }
        switch n {
        case .stateChanged(let id, let from, let to):
            return NodeEvent("channel.state", ["channel": .string(id.description), "from": .string(from.rawValue), "to": .string(to.rawValue)])
        case .openRejected(let id, let c, let reason):
            return NodeEvent("channel.openRejected", code(c).merging(["channel": .string(id.description), "reason": JSONValue(reason)]) { a, _ in a })
        case .paymentAcknowledged(let id, let nonce, let cumulative):
            return NodeEvent("payment.acked", ["channel": .string(id.description), "nonce": JSONValue(nonce), "cumulative": .string(String(cumulative))])
        case .paymentRejected(let id, let nonce, let c, let reason):
            return NodeEvent("payment.rejected", code(c).merging(["channel": .string(id.description), "nonce": JSONValue(nonce),
                                                                   "reason": JSONValue(reason)]) { a, _ in a })
        case .paymentReceived(let id, let nonce, let increment, let cumulative, let task):
            return NodeEvent("payment.received", ["channel": .string(id.description), "nonce": JSONValue(nonce),
                                                  "increment": .string(String(increment)), "cumulative": .string(String(cumulative)),
                                                  "taskId": JSONValue(task)])
        case .peerMessageRejected(let id, let c, let detail):
            return NodeEvent("channel.peerMessageRejected", code(c).merging(["channel": .string(id.description), "detail": .string(detail)]) { a, _ in a })
        case .stateRecovered(let id, let nonce, let cumulative):
            return NodeEvent("channel.recovered", ["channel": .string(id.description), "nonce": JSONValue(nonce), "cumulative": .string(String(cumulative))])
        case .closeRejected(let id, let c, let reason):
            return NodeEvent("channel.closeRejected", code(c).merging(["channel": .string(id.description), "reason": JSONValue(reason)]) { a, _ in a })
        case .disputed(let id, let nonce, let cumulative):
            return NodeEvent("channel.disputed", ["channel": .string(id.description), "nonce": JSONValue(nonce), "cumulative": .string(String(cumulative))])
        case .settlementSubmitted(let id, let sid):
            return NodeEvent("channel.settlementSubmitted", ["channel": .string(id.description), "settlement": .string(sid)])
        case .settlementFailed(let id, let reason):
            return NodeEvent("channel.settlementFailed", ["channel": .string(id.description), "reason": .string(reason)])
        case .settled(let id, let payee, let refund, let offChain):
            return NodeEvent("channel.settled", ["channel": .string(id.description), "payeeAmount": .string(String(payee)),
                                                 "refund": .string(String(refund)), "offChain": .bool(offChain)])
        }
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
