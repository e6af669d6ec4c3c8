import PaymeshChannels
import PaymeshMessages

/// Channel notifications: bookkeeping for `pay`, `channel.open` and `channel.close`, logs, and
/// typed `NodeEvent.channel` events for whoever subscribes (published only while someone does).
extension PaymentsService {
    func handle(_ n: ChannelNotification) {
        switch n {
        case .paymentAcknowledged(let id, let nonce, _):
            let now = Self.now()
            if var list = trackers[id] {
                for i in list.indices { list[i].acknowledged(through: nonce, now: now) }
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
            logger.info("channel event", metadata: ["event": "\(n)"])
        }
        if events.hasSubscribers { events.publish(.channel(n)) }
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

    mutating func acknowledged(through nonce: UInt64, now _: UInt64) {
        let t = PaymentsService.nanos()
        while head < pending.count, pending[head].nonce <= nonce {
            latenciesNanos.append(t - pending[head].signedAt)
            head += 1
        }
    }
}
