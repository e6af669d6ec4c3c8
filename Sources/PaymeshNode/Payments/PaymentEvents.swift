import PaymeshChannels
import PaymeshMessages

/// Channel notifications as console events (`subscribe`, topics `payment` and `channel`) and logs.
extension PaymentsService {
    func handle(_ n: ChannelNotification) {
        switch n {
        case .paymentAcknowledged(let id, let nonce, _):
            let t = nanos()
            if var list = trackers[id] {
                for i in list.indices { list[i].acknowledged(through: nonce, now: t) }
                trackers[id] = list
            }
        case .paymentRejected(let id, let nonce, let code, let reason):
            // NONCE_TOO_OLD / DUPLICATE_NONCE come with the payee's held voucher, which acknowledges
            // everything up to it (§4.2, §8): not a failure of the payments in flight.
            if code != .nonceTooOld && code != .duplicateNonce { rejections[id] = Rejection(nonce: nonce, code: code, reason: reason) }
            logger.notice("payment rejected", metadata: ["channel": "\(id)", "nonce": "\(nonce)", "code": "\(code)"])
        case .paymentReceived:
            break
        case .openRejected(let id, let code, let reason):
            openFailures[id] = Rejection(nonce: 0, code: code, reason: reason)
            logger.notice("channel open refused", metadata: ["channel": "\(id)", "code": "\(code)", "reason": "\(reason ?? "")"])
        case .closeRejected(let id, let code, let reason):
            closeFailures[id] = Rejection(nonce: 0, code: code, reason: reason)
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

/// A payee's refusal of one of our vouchers, as `pay` reports it.
struct Rejection: Sendable {
    var nonce: UInt64
    var code: PaymeshErrorCode
    var reason: String?
}

/// Sign-to-acknowledgement times of the vouchers one `pay` call signed.
struct LatencyTracker {
    let owner: UInt64
    private var pending: [(nonce: UInt64, signedAt: UInt64)] = []
    private var head = 0
    private(set) var latenciesNanos: [UInt64] = []

    init(owner: UInt64) { self.owner = owner }

    mutating func signed(nonce: UInt64, at nanos: UInt64) { pending.append((nonce, nanos)) }

    mutating func acknowledged(through nonce: UInt64, now t: UInt64) {
        while head < pending.count, pending[head].nonce <= nonce {
            latenciesNanos.append(t - pending[head].signedAt)
            head += 1
        }
    }
}
