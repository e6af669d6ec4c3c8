public import PaymeshChannels
public import PaymeshCrypto
public import PaymeshMessages
public import PaymeshPay402

/// The payer's side of the channel scheme over HTTP (Specs/http402.md §11): a voucher signed and
/// made durable **without** being sent on the channel's stream — the HTTP client carries it to the
/// gateway — and the gateway's paid answer taken as its acknowledgement.
extension PaymentsService {
    /// The payer channels an HTTP payment may go through now: OPEN or ACTIVE, not carrying HTLCs.
    public func httpPayableChannels() -> [PayableChannel] {
        payers.values.compactMap { p in
            guard p.state.acceptsPayments, !htlcs.owns(p.channelID) else { return nil }
            return PayableChannel(channelID: p.channelID, payee: p.terms.payee, asset: p.terms.asset,
                                  network: ChannelScheme.network(of: p.terms.domain), available: p.available)
        }
    }

    /// The latest voucher this node signed on payer channel `id` (nil: none, or not a payer channel).
    public func latestSignedVoucher(_ id: ChannelID) -> PaymentUpdate? { payers[id]?.latestVoucher }

    /// The nonce the next voucher of payer channel `id` will carry.
    public func nextVoucherNonce(_ id: ChannelID) throws(NodeError) -> UInt64 {
        guard let p = payers[id] else { throw Self.channelNotFound(id) }
        return (p.latestVoucher?.nonce ?? 0) + 1
    }

    /// Signs the next voucher of payer channel `id` for `amount` more, under the spending policy,
    /// exactly as `pay` signs one (state, balance and policy checked first; nothing signed on a
    /// refusal), and returns it once it is **durable** in the channel store. It is not sent on the
    /// channel's stream: the caller presents it over HTTP (x402, the channel scheme).
    public func signHTTPVoucher(_ id: ChannelID, amount: UInt128, taskID: String) async throws(NodeError) -> PaymentUpdate {
        guard !stopped else { throw .shuttingDown() }
        guard let p = payers[id] else { throw Self.channelNotFound(id) }
        guard p.state.acceptsPayments else { throw Self.notActive(id, p.state) }
        guard !htlcs.owns(id) else {
            throw .paymesh(.temporaryChannelFailure, "channel \(id) carries HTLCs: its vouchers are the HTLC book's (Specs/channels.md §12.10)")
        }
        guard !httpPayments.isFull else { throw .paymesh(.rateLimited, "too many vouchers are being stored; retry") }
        let actions: [ChannelAction]
        do { actions = try book.pay(id, amount: amount, taskID: taskID, now: now()) } catch { throw Self.nodeError(error) }
        let voucher = payers[id]!.latestVoucher!
        countSigned(id, amount: amount)
        let kept = actions.filter { if case .send = $0 { false } else { true } }
        let peer = p.terms.payee
        let failure: String? = await withCheckedContinuation { (continuation: CheckedContinuation<String?, Never>) in
            let token = httpPayments.add(continuation)
            var step = StepBuilder()
            stage(kept, channel: id, peer: peer, into: &step)
            step.effects.append(.httpPaid(token: token))
            enqueue(step)
        }
        if let failure { throw .internalError("the voucher was not stored: \(failure)") }
        return voucher
    }

    /// The gateway answered a request paid with voucher `nonce` of payer channel `id`: its answer
    /// is the voucher's acknowledgement (no PAYMENT_ACK comes on the wire for it).
    public func httpVoucherAccepted(_ id: ChannelID, nonce: UInt64) {
        guard let payee = payers[id]?.terms.payee, let ack = try? PaymentAck(channelID: id, nonce: nonce, status: .accepted) else { return }
        perform(book.onReceived([.paymentAck(ack)], from: payee, now: now(), balances: [:]))
    }
}

// MARK: Channels opened for a request (Specs/http402.md §11.3)

extension PaymentsService {
    /// What the HTTP client may open now: the spending policy (its `autoOpen` terms), the deposits
    /// of the unsettled payer channels by payee and asset, and the decimals of the ledger's assets.
    public func httpOpening() -> PaymentChoice.Opening {
        var deposits: [PaymentChoice.Opening.PeerAsset: UInt128] = [:]
        for p in payers.values where p.state != .settled {
            deposits[.init(p.terms.payee, p.terms.asset.id), default: 0] &+= p.terms.deposit
        }
        return PaymentChoice.Opening(policy: book.policy, deposits: deposits, ledgerDecimals: book.assets.decimals)
    }

    /// The state of payer channel `id` (nil: this node proposed no such channel).
    public func payerState(_ id: ChannelID) -> ChannelState? { payers[id]?.state }

    /// The id a payer channel of this node to `payee` proposed with `salt` gets (Specs/channels.md §4).
    public func payerChannelID(to payee: EthereumAddress, salt: [UInt8]) throws(NodeError) -> ChannelID {
        do { return try ChannelTerms.deriveChannelID(payer: me, payee: payee, openNonce: 0, salt: salt) } catch {
            throw .internalError("channel id: \(error)")
        }
    }

    /// The atomic units of `asset` the ledger's wallet of this node holds.
    public func walletBalance(_ asset: String) -> UInt128 {
        (try? ledger.books.balance(owner: me, assetID: Asset.normalizedID(asset)))?.atomicUnits ?? 0
    }
}
