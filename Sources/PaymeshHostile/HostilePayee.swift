public import PaymeshMessages

/// The attacker as a channel's payee: it accepts the node's PAYMENT_OPEN and vouchers so that it
/// holds a real channel with the node as payer, then lies about it (e.g. a forged close).
extension HostileConnection {
    /// Waits for a PAYMENT_OPEN from the node and accepts it (PAYMENT_ACK accepted, nonce = the
    /// open's nonce) on the stream it came on. nil when none came within `timeout`.
    public func acceptOpen(timeout: Double = 10) throws(HostileError) -> (open: PaymentOpen, stream: UInt32)? {
        guard let entry = try nextEntry(timeout: timeout, where: { if case .paymentOpen = $0 { true } else { false } }),
              case .paymentOpen(let open) = entry.message else { return nil }
        try send([.paymentAck(try HostileCraft.ack(open.channelID, nonce: open.nonce))], on: entry.stream)
        return (open, entry.stream)
    }

    /// Acknowledges the node's vouchers on `channel` until one with nonce ≥ `nonce` arrived;
    /// returns the latest one (nil if none came within `timeout`).
    public func acceptVouchers(_ channel: ChannelID, through nonce: UInt64, timeout: Double = 10) throws(HostileError) -> PaymentUpdate? {
        var latest: PaymentUpdate?
        while latest.map({ $0.nonce < nonce }) ?? true {
            guard let entry = try nextEntry(timeout: timeout, where: {
                if case .paymentUpdate(let u) = $0, u.channelID == channel { true } else { false }
            }), case .paymentUpdate(let update) = entry.message else { return latest }
            try send([.paymentAck(try HostileCraft.ack(channel, nonce: update.nonce))], on: entry.stream)
            latest = update
        }
        return latest
    }

    /// The first PAYMENT_ACK for `channel` with `nonce` (nil if none within `timeout`).
    public func ack(for channel: ChannelID, nonce: UInt64? = nil, timeout: Double = 10) throws(HostileError) -> PaymentAck? {
        guard case .paymentAck(let a) = try nextMessage(timeout: timeout, where: {
            if case .paymentAck(let a) = $0, a.channelID == channel, nonce.map({ a.nonce == $0 }) ?? true { true } else { false }
        }) else { return nil }
        return a
    }
}
