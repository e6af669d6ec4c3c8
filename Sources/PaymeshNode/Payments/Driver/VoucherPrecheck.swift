import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import Synchronization

/// Verifies the signatures of received vouchers before the service's turn, on the stream's read
/// task: a voucher's signature check (an ECDSA public-key recovery, most of a payee's work per
/// payment) then runs in parallel with the channel book handling the previous chunk, instead of
/// inside the service's one serial turn.
///
/// It knows the terms (payer address, signing domain) of this node's payee channels: the service
/// teaches it a channel after the book accepted or loaded it, and makes it forget a settled or
/// dropped one. A voucher of a channel it does not know (yet) gets no verdict: the channel machine
/// verifies it itself. A verdict is used only for the exact voucher it was computed on and only
/// while the channel's terms are the ones it was computed with (`VoucherVerdicts.verdict`), so a
/// stale entry can cost a wasted check, never a wrong acceptance. Bounded by the number of payee
/// channels the open policy lets in.
final class VoucherPrecheck: Sendable {
    private let known = Mutex<[ChannelID: ChannelTerms]>([:])

    func learn(_ terms: ChannelTerms) { known.withLock { $0[terms.channelID] = terms } }

    func forget(_ id: ChannelID) { _ = known.withLock { $0.removeValue(forKey: id) } }

    func knows(_ id: ChannelID) -> Bool { known.withLock { $0[id] != nil } }

    var count: Int { known.withLock { $0.count } }

    /// The verdicts on the signatures of `peer`'s vouchers in `messages`, for the payee channels
    /// whose payer `peer` is (the book refuses the others before any signature matters): one per
    /// channel, on its last voucher in `messages`, which covers the earlier ones when the book can
    /// accept them all (`PayeeChannel.receiveVouchers`, Specs/channels.md §4.2.1).
    func check(_ messages: [Message], from peer: EthereumAddress) -> VoucherVerdicts {
        var last: [ChannelID: PaymentUpdate] = [:]
        for case .paymentUpdate(let v) in messages { last[v.channelID] = v }
        guard !last.isEmpty else { return VoucherVerdicts() }
        let terms: [ChannelID: ChannelTerms] = known.withLock { map in
            guard !map.isEmpty else { return [:] }
            var found: [ChannelID: ChannelTerms] = [:]
            for id in last.keys {
                if let t = map[id], t.payer == peer { found[id] = t }
            }
            return found
        }
        var verdicts = VoucherVerdicts()
        for (id, t) in terms {
            let v = last[id]!
            verdicts.entries[id] = VoucherVerdicts.Entry(voucher: v, terms: t, verdict: SignatureVerdict(v, t))
        }
        return verdicts
    }
}

/// Signature verdicts computed before the service's turn (`VoucherPrecheck`), by exact voucher:
/// at most one per channel (its last voucher of the chunk), used only when the whole voucher and
/// the channel's terms are equal.
struct VoucherVerdicts: Sendable {
    struct Entry: Sendable {
        let voucher: PaymentUpdate
        let terms: ChannelTerms
        let verdict: SignatureVerdict
    }

    fileprivate(set) var entries: [ChannelID: Entry] = [:]

    var isEmpty: Bool { entries.isEmpty }

    /// The verdict on `m` when it is a voucher checked against exactly `terms`; nil otherwise (the
    /// channel machine then verifies it itself).
    func verdict(_ m: Message, terms: ChannelTerms) -> SignatureVerdict? {
        guard !entries.isEmpty, case .paymentUpdate(let v) = m, let e = entries[v.channelID], e.voucher == v, e.terms == terms else { return nil }
        return e.verdict
    }

    /// Whether the precheck knew `id`'s terms (it checked a voucher of that channel).
    func checked(_ id: ChannelID) -> Bool { entries[id] != nil }
}
