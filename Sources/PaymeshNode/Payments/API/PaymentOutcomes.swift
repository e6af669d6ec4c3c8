import PaymeshChannels
import PaymeshMessages

/// What the console's payment calls report besides the channels themselves: the payee's refusals
/// of our vouchers, refused opens and closes, and the sign-to-acknowledgement latencies of the
/// running `pay` calls. Sans-IO; fed from the channel notifications the driver performs.
struct PaymentOutcomes {
    var rejections: [ChannelID: Rejection] = [:]
    var openFailures: [ChannelID: Rejection] = [:]
    var closeFailures: [ChannelID: Rejection] = [:]
    private var trackers: [ChannelID: [LatencyTracker]] = [:]
    private var nextOwner: UInt64 = 1

    /// A `pay` call starts on `channels`: its latency trackers, earlier refusals forgotten.
    mutating func payStarted(_ channels: [ChannelID]) -> UInt64 {
        let owner = nextOwner
        nextOwner += 1
        for id in channels {
            trackers[id, default: []].append(LatencyTracker(owner: owner))
            rejections[id] = nil
        }
        return owner
    }

    mutating func signed(_ id: ChannelID, nonce: UInt64, at nanos: UInt64, owner: UInt64) {
        if let i = trackers[id]?.firstIndex(where: { $0.owner == owner }) { trackers[id]![i].signed(nonce: nonce, at: nanos) }
    }

    mutating func acknowledged(_ id: ChannelID, through nonce: UInt64, at nanos: UInt64) {
        // In place: a copy of the list would copy every tracker's arrays on each acknowledgement.
        guard let count = trackers[id]?.count else { return }
        for i in 0..<count { trackers[id]![i].acknowledged(through: nonce, now: nanos) }
    }

    /// NONCE_TOO_OLD / DUPLICATE_NONCE come with the payee's held voucher, which acknowledges
    /// everything up to it (§4.2, §8): not a failure of the payments in flight.
    mutating func rejected(_ id: ChannelID, nonce: UInt64, code: PaymeshErrorCode, reason: String?) {
        if code != .nonceTooOld && code != .duplicateNonce { rejections[id] = Rejection(nonce: nonce, code: code, reason: reason) }
    }

    /// The `pay` call `owner` ended: its latencies, its trackers dropped.
    mutating func payEnded(_ owner: UInt64, channels: Set<ChannelID>) -> [UInt64] {
        var latencies: [UInt64] = []
        for id in channels {
            if let t = trackers[id]?.first(where: { $0.owner == owner }) { latencies += t.latenciesNanos }
        }
        for id in Array(trackers.keys) {
            trackers[id]!.removeAll { $0.owner == owner }
            if trackers[id]!.isEmpty { trackers[id] = nil }
        }
        return latencies.sorted()
    }

    func firstRejection(_ channels: [ChannelID]) -> (ChannelID, Rejection)? {
        for id in channels { if let r = rejections[id] { return (id, r) } }
        return nil
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

