/// Coalesced acknowledgements (Specs/messages.md §4.4.1, `/paymesh/payments/2` only).
extension PaymentAck {
    /// Every acknowledgement this message carries, in the order a receiver applies them: itself
    /// (without `acks`) and then one accepted ack per entry of `acks`.
    public var acknowledgements: [PaymentAck] {
        guard !acks.isEmpty else { return [self] }
        var first = self
        first.acks = []
        var all = [first]
        all.reserveCapacity(acks.count + 1)
        for e in acks {
            // Accepted, no reason, no code: always valid.
            all.append(Self(unchecked: e))
        }
        return all
    }

    private init(unchecked e: Entry) {
        channelID = e.channelID
        nonce = e.nonce
        status = .accepted
        reason = nil
        errorCode = nil
        acks = []
    }

    /// Whether `coalesced` may fold this ack into a run: accepted, with no reason.
    var isPlainAcceptance: Bool { status == .accepted && reason == nil }

    /// `messages` with every run of consecutive plain accepted PAYMENT_ACKs (status accepted, no
    /// reason) folded into as few PAYMENT_ACKs as `acks` allows (1 + `ackEntries` acknowledgements
    /// each). Within a run, a channel keeps one entry, at its first position, with the highest nonce
    /// of the run: acknowledging nonce n acknowledges every voucher ≤ n (Specs/channels.md §4.3),
    /// and acknowledgements of different channels are independent. Every other message keeps its
    /// place, so nothing is reordered across it.
    public static func coalesced(_ messages: [Message]) -> [Message] {
        var out: [Message] = []
        out.reserveCapacity(messages.count)
        var run: [Entry] = []
        var position: [ChannelID: Int] = [:]
        func flush() {
            guard !run.isEmpty else { return }
            var start = 0
            while start < run.count {
                let end = min(run.count, start + 1 + MessageLimits.ackEntries)
                var ack = Self(unchecked: run[start])
                ack.acks = Array(run[(start + 1)..<end])
                out.append(.paymentAck(ack))
                start = end
            }
            run.removeAll(keepingCapacity: true)
            position.removeAll(keepingCapacity: true)
        }
        for m in messages {
            guard case .paymentAck(let ack) = m, ack.isPlainAcceptance else {
                flush()
                out.append(m)
                continue
            }
            for a in ack.acknowledgements {
                if let i = position[a.channelID] {
                    if a.nonce > run[i].nonce { run[i].nonce = a.nonce }
                } else {
                    position[a.channelID] = run.count
                    run.append(Entry(channelID: a.channelID, nonce: a.nonce))
                }
            }
        }
        flush()
        return out
    }
}

extension PaymentAck {
    /// `messages` with every coalesced PAYMENT_ACK replaced by its acknowledgements, in order
    /// (what a receiver applies, §4.4.1). Returns `messages` itself when none carries `acks`.
    public static func expanded(_ messages: [Message]) -> [Message] {
        guard messages.contains(where: { if case .paymentAck(let a) = $0 { !a.acks.isEmpty } else { false } }) else { return messages }
        var out: [Message] = []
        out.reserveCapacity(messages.count)
        for m in messages {
            if case .paymentAck(let a) = m, !a.acks.isEmpty {
                out += a.acknowledgements.map(Message.paymentAck)
            } else {
                out.append(m)
            }
        }
        return out
    }
}
