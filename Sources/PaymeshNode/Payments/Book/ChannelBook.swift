import Logging
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages

/// What the channel book asks its driver to do, in order.
enum BookAction: Sendable, Equatable {
    /// A channel machine's actions (persist, send, settle, timer, notify), staged in order:
    /// persist before send on the payer, persist before ack on the payee (Specs/channels.md §1).
    /// `channel` is nil for an answer about a channel this node does not hold (a rejected ack).
    case channel(ChannelID?, peer: EthereumAddress, [ChannelAction])
    /// ERROR replies that depend on no write (unsupported messages): sent with the step.
    case sendNow([Message], to: EthereumAddress)
    /// Give the peer a reserved slot in the peer table (it has a channel with us).
    case protectPeer(EthereumAddress)
    /// What an honest peer never sends, found in one received chunk (Misbehaviour).
    case misbehaved(EthereumAddress, count: Int, reason: String)
    /// Something worth a log line.
    case log(Logger.Level, String, [String: String])
    /// A NEGOTIATE_* message for the negotiation service (Specs/negotiation.md), in order with the rest.
    case negotiation(Message, from: EthereumAddress)
}

/// All channels of a node and the dispatch of payment-stream messages to them, sans-IO: events in
/// (`onReceived`, `onTimer`, `onSettlement`, `onPeerUp`, …) with the time passed in, `BookAction`s
/// out. No sockets, tasks, store or clock: `PaymentsService` is the driver that performs them.
struct ChannelBook {
    let key: IdentityKey
    let me: EthereumAddress
    let openPolicy: PayeeOpenPolicy

    private(set) var payers: [ChannelID: PayerChannel] = [:]
    private(set) var payees: [ChannelID: PayeeChannel] = [:]
    /// The payee channels of each payer that may not be SETTLED yet (pruned when counted).
    private(set) var payeesByPayer: [EthereumAddress: Set<ChannelID>] = [:]
    /// Peers with a channel, given reserved peer slots (issue 7 item 8). Only grows until the next
    /// start: a settled channel's peer keeps its slot until then.
    private(set) var protectedPeers: Set<EthereumAddress> = []
    private(set) var policy: SpendingPolicy = .unlimited
    /// One guard per asset id (Specs/channels.md §9).
    private(set) var guards: [String: SpendingGuard] = [:]
    /// One decimals per asset id (Specs/README.md, "Money"): checked for every use, local or a
    /// peer's open; rebuilt at start from the configuration and the stored uses.
    private(set) var assets: AssetRegistry

    init(key: IdentityKey, openPolicy: PayeeOpenPolicy, assets: AssetRegistry = AssetRegistry()) {
        self.key = key
        me = key.address
        self.openPolicy = openPolicy
        self.assets = assets
    }

    // MARK: Queries

    func snapshot(_ id: ChannelID) -> ChannelSnapshot? { payers[id]?.snapshot ?? payees[id]?.snapshot }

    func peerOf(_ id: ChannelID) -> EthereumAddress? { payers[id]?.terms.payee ?? payees[id]?.terms.payer }

    // MARK: Loading

    /// A channel restored from the store (at start, or after a failed write). Returns the actions
    /// of protecting its peer when it is not SETTLED.
    @discardableResult
    mutating func load(_ snapshot: ChannelSnapshot) throws(ChannelError) -> [BookAction] {
        let id = snapshot.channelID
        switch snapshot.role {
        case .payer: payers[id] = try PayerChannel(restoring: snapshot, key: key)
        case .payee:
            payees[id] = try PayeeChannel(restoring: snapshot, key: key)
            payeesByPayer[snapshot.terms.payer, default: []].insert(id)
        }
        guard snapshot.state != .settled else { return [] }
        return protect(snapshot.role == .payer ? snapshot.terms.payee : snapshot.terms.payer)
    }

    /// A channel whose opening never became durable: it does not exist.
    mutating func drop(_ id: ChannelID) {
        payers[id] = nil
        payees[id] = nil
    }

    // MARK: Asset registry

    /// A local use (funding, an open this node proposes): refused with 1106 when it conflicts;
    /// true when it registered the asset (undo with `forgetAsset` if the use is not written).
    mutating func useAsset(_ asset: Asset) throws(ChannelError) -> Bool { try assets.use(asset) }

    mutating func forgetAsset(_ id: String) { assets.forget(id) }

    /// A use found in the store at start; false when it conflicts with an earlier one.
    mutating func learnAsset(_ asset: Asset) -> Bool { assets.learn(asset) }

    // MARK: Spending policy

    mutating func setPolicy(_ p: SpendingPolicy) {
        policy = p
        for asset in Array(guards.keys) { guards[asset]!.update(p) }
    }

    /// Spending totals are the cumulative amounts of our payer channels' latest vouchers (durable):
    /// nothing else needs persisting for them. The rate window starts empty after a restart.
    mutating func rebuildGuards() {
        var perAsset: [String: (perPeer: [EthereumAddress: UInt128], total: UInt128)] = [:]
        for p in payers.values {
            let asset = p.terms.asset.id, paid = p.paidAmount
            perAsset[asset, default: ([:], 0)].perPeer[p.terms.payee, default: 0] += paid
            perAsset[asset, default: ([:], 0)].total += paid
        }
        guards = perAsset.mapValues { SpendingGuard(policy: policy, spentPerPeer: $0.perPeer, spentTotal: $0.total) }
    }

    // MARK: The payer's calls

    /// Adds a channel this node proposes (`PayerChannel.open`'s result).
    mutating func proposed(_ channel: PayerChannel) -> [BookAction] {
        payers[channel.channelID] = channel
        if guards[channel.terms.asset.id] == nil { guards[channel.terms.asset.id] = SpendingGuard(policy: policy) }
        return protect(channel.terms.payee)
    }

    /// How many channels this node proposed to `peer` still wait for its answer.
    func proposedCount(to peer: EthereumAddress) -> Int { payers.values.filter { $0.state == .proposed && $0.terms.payee == peer }.count }

    /// Signs the next voucher of payer channel `id` (the caller checked it exists) under the
    /// asset's spending guard.
    /// `presigned`: this node's signature of the voucher, made off the book (`PayerChannel.pay`).
    mutating func pay(_ id: ChannelID, amount: UInt128, taskID: String?, now: UInt64,
                      presigned: PaymentUpdate? = nil) throws(ChannelError) -> [ChannelAction] {
        precondition(payers[id] != nil, "pay on a channel the caller checked")
        let asset = payers[id]!.terms.asset.id
        if guards[asset] == nil { guards[asset] = SpendingGuard(policy: policy) }
        return try payers[id]!.pay(amount: amount, taskID: taskID, now: now, policy: &guards[asset]!, presigned: presigned)
    }

    /// Starts a cooperative or unilateral close of either side's channel (the caller checked it exists).
    mutating func close(_ id: ChannelID, cooperative: Bool, now: UInt64) throws(ChannelError) -> [BookAction] {
        if payers[id] != nil {
            let actions = cooperative ? try payers[id]!.closeCooperatively(now: now) : try payers[id]!.closeUnilaterally(now: now)
            return [.channel(id, peer: payers[id]!.terms.payee, actions)]
        }
        precondition(payees[id] != nil, "close of a channel the caller checked")
        let actions = cooperative ? try payees[id]!.closeCooperatively(now: now) : try payees[id]!.closeUnilaterally(now: now)
        return [.channel(id, peer: payees[id]!.terms.payer, actions)]
    }

    // MARK: Time, settlement, peers

    /// After start: continue closes cut short by a stop or a crash (Specs/channels.md §6.4).
    mutating func resume(now: UInt64) -> [BookAction] {
        var out: [BookAction] = []
        for id in Array(payers.keys) {
            let actions = payers[id]!.resume(now: now)
            if !actions.isEmpty { out.append(.channel(id, peer: payers[id]!.terms.payee, actions)) }
        }
        for id in Array(payees.keys) {
            let actions = payees[id]!.resume(now: now)
            if !actions.isEmpty { out.append(.channel(id, peer: payees[id]!.terms.payer, actions)) }
        }
        return out
    }

    /// A deadline a channel asked for (`.scheduleTimer`) passed.
    mutating func onTimer(_ id: ChannelID, now: UInt64) -> [BookAction] {
        if payers[id] != nil { return [.channel(id, peer: payers[id]!.terms.payee, payers[id]!.onTimerTick(now: now))] }
        if payees[id] != nil { return [.channel(id, peer: payees[id]!.terms.payer, payees[id]!.onTimerTick(now: now))] }
        return []
    }

    /// The settlement backend answered for channel `id`.
    mutating func onSettlement(_ id: ChannelID, _ events: [SettlementEvent], now: UInt64) -> [BookAction] {
        var out: [BookAction] = []
        for e in events {
            if payers[id] != nil {
                out.append(.channel(id, peer: payers[id]!.terms.payee, payers[id]!.onSettlement(e, now: now, offChain: true)))
            } else if payees[id] != nil {
                out.append(.channel(id, peer: payees[id]!.terms.payer, payees[id]!.onSettlement(e, now: now, offChain: true)))
            }
        }
        return out
    }

    /// Specs/channels.md §8: when a peer (re)connects, both sides send their latest state.
    mutating func onPeerUp(_ peer: EthereumAddress, now: UInt64) -> [BookAction] {
        var out: [BookAction] = []
        for id in payers.keys where payers[id]!.terms.payee == peer {
            out.append(.channel(id, peer: peer, payers[id]!.reestablish(now: now)))
        }
        for id in payees.keys where payees[id]!.terms.payer == peer {
            out.append(.channel(id, peer: peer, payees[id]!.reestablish(now: now)))
        }
        if !out.isEmpty { out.append(.log(.info, "re-establishing channels", ["peer": "\(peer)", "channels": "\(out.count)"])) }
        return out
    }

    // MARK: Receiving

    /// Every message of one received chunk from `peer` (authenticated by the transport), in
    /// order. `balances` holds this node's ledger balance per asset id of the chunk's opens (a
    /// missing asset: unknown, the open is refused as over capacity). `verdicts` holds the signature
    /// checks of vouchers already made off the book (`VoucherPrecheck`); the others are verified here.
    mutating func onReceived(_ messages: [Message], from peer: EthereumAddress, now: UInt64, balances: [String: UInt128],
                             verdicts: VoucherVerdicts = VoucherVerdicts()) -> [BookAction] {
        var out: [BookAction] = []
        var errors: [Message] = []
        var misbehaviour = Misbehaviour()
        var receipts: [(ChannelID, String)] = []
        // Several vouchers of one payee channel and nothing else of it: handled together, where the
        // first of them was, so the last one's signature can cover the others (§4.2.1).
        var runs = Self.voucherRuns(messages)
        if !runs.isEmpty { runs = runs.filter { payees[$0.key]?.terms.payer == peer } }
        var handled: Set<ChannelID> = []
        for m in messages {
            if !runs.isEmpty, case .paymentUpdate(let v) = m, let run = runs[v.channelID] {
                let id = v.channelID
                guard handled.insert(id).inserted else { continue } // handled with its run
                let verdict = verdicts.isEmpty ? nil : verdicts.verdict(.paymentUpdate(run[run.count - 1]), terms: payees[id]!.terms)
                let all = payees[id]!.receiveVouchers(run, now: now, lastVerdict: verdict)
                for (v, actions) in zip(run, all) {
                    misbehaviour.scan(actions)
                    out.append(.channel(id, peer: peer, actions))
                    noteReceipt(v, id, &receipts)
                }
                continue
            }
            guard let id = Self.channelID(of: m) else {
                switch m {
                case .error(let e):
                    out.append(.log(.notice, "peer reported an error", ["peer": "\(peer)", "code": "\(e.code)", "message": "\(e.message)"]))
                case .negotiatePropose, .negotiateCounter, .negotiateAccept, .negotiateReject:
                    out.append(.negotiation(m, from: peer))
                default:
                    errors.append(.error(ErrorMessage(unchecked: .unsupportedMessage, "\(m.type.name) is not handled", m)))
                }
                continue
            }
            if let owner = peerOf(id) {
                let isPayer = payers[id] != nil
                guard owner == peer else {
                    let reason = isPayer ? "not this channel's payee" : "not this channel's payer"
                    misbehaviour.note(.identityNotVerified, reason)
                    out.append(.channel(nil, peer: peer, Self.reject(m, .identityNotVerified, reason))); continue
                }
                let actions: [ChannelAction]
                if isPayer {
                    actions = payers[id]!.receive(m, now: now)
                } else {
                    let verdict = verdicts.isEmpty ? nil : verdicts.verdict(m, terms: payees[id]!.terms)
                    actions = payees[id]!.receive(m, now: now, signature: verdict)
                }
                misbehaviour.scan(actions)
                out.append(.channel(id, peer: peer, actions))
                if !isPayer, case .paymentUpdate(let v) = m { noteReceipt(v, id, &receipts) }
            } else if case .paymentOpen(let open) = m {
                out += acceptOpen(open, from: peer, now: now, balance: balances[open.asset.id], misbehaviour: &misbehaviour)
            } else if case .paymentAck = m {
                continue // an answer about a channel we no longer know: nothing to do
            } else {
                out.append(.channel(nil, peer: peer, Self.reject(m, .channelNotFound, "no such channel")))
            }
        }
        out += issueReceipts(receipts, now: now)
        if !errors.isEmpty { out.append(.sendNow(errors, to: peer)) }
        if misbehaviour.count > 0 {
            out.append(.misbehaved(peer, count: misbehaviour.count, reason: misbehaviour.firstReason ?? "misbehaviour"))
        }
        return out
    }

    /// A receipt is due for the task of payee channel `id`'s voucher `v` when `v` was accepted (it
    /// is the latest): the latest voucher of each task id of a chunk gets one.
    private func noteReceipt(_ v: PaymentUpdate, _ id: ChannelID, _ receipts: inout [(ChannelID, String)]) {
        guard let task = v.taskID, payees[id]?.latestVoucher == v else { return }
        if let last = receipts.last, last.0 == id, last.1 == task { return }
        receipts.removeAll { $0.0 == id && $0.1 == task }
        receipts.append((id, task))
    }

    /// The vouchers of each channel that has more than one in `messages` and no other message
    /// there, in order (the book checks it is a payee channel of the sender before using a run).
    static func voucherRuns(_ messages: [Message]) -> [ChannelID: [PaymentUpdate]] {
        guard messages.count > 1 else { return [:] }
        var runs: [ChannelID: [PaymentUpdate]] = [:]
        var mixed: Set<ChannelID> = []
        for m in messages {
            if case .paymentUpdate(let v) = m {
                runs[v.channelID, default: []].append(v)
            } else if let id = channelID(of: m) {
                mixed.insert(id)
            }
        }
        for id in mixed { runs[id] = nil }
        return runs.filter { $0.value.count > 1 }
    }

    /// The asset ids whose balance `onReceived` needs for `messages` (those of their opens).
    static func openAssets(_ messages: [Message]) -> Set<String> {
        var assets: Set<String> = []
        for case .paymentOpen(let open) in messages { assets.insert(open.asset.id) }
        return assets
    }

    private mutating func protect(_ peer: EthereumAddress) -> [BookAction] {
        protectedPeers.insert(peer).inserted ? [.protectPeer(peer)] : []
    }

    private mutating func acceptOpen(_ open: PaymentOpen, from peer: EthereumAddress, now: UInt64, balance: UInt128?,
                                     misbehaviour: inout Misbehaviour) -> [BookAction] {
        let capacity = openCapacity(payer: peer, assetID: open.asset.id, balance: balance)
        switch PayeeChannel.accept(open, key: key, policy: openPolicy, authenticatedPeer: peer, backing: nil,
                                   capacity: capacity, now: now) {
        case .accepted(let channel, let actions):
            assets.learn(open.asset) // checked by the open policy: registers an id not known yet
            payees[open.channelID] = channel
            payeesByPayer[peer, default: []].insert(open.channelID)
            // The payer's deposit is a term of the channel (its row), not money in our books.
            return protect(peer) + [
                .log(.info, "channel accepted", ["channel": "\(open.channelID)", "payer": "\(peer)",
                                                 "deposit": "\(open.totalDeposit)", "asset": "\(open.asset)"]),
                .channel(open.channelID, peer: peer, actions),
            ]
        case .rejected(let error, let actions):
            misbehaviour.note(error.code, "\(error)")
            // A flood beyond the per-payer limit is answered, not logged or published open by open.
            let flood = error.code == .channelLimitExceeded
            return [
                .log(flood ? .debug : .notice, "channel refused", ["channel": "\(open.channelID)", "payer": "\(peer)", "error": "\(error)"]),
                .channel(open.channelID, peer: peer, flood ? actions.filter { if case .notify = $0 { false } else { true } } : actions),
            ]
        }
    }

    /// What the open checks need of the node's other channels (Specs/channels.md §3.2 steps 1b, 4).
    /// Counting prunes settled channels from the payer's index, so it costs what the payer has open.
    private mutating func openCapacity(payer: EthereumAddress, assetID: String, balance: UInt128?) -> OpenCapacity {
        let live = (payeesByPayer[payer] ?? []).filter { payees[$0].map { $0.state != .settled } ?? false }
        payeesByPayer[payer] = live.isEmpty ? nil : live
        guard live.count < openPolicy.maxChannelsPerPeer else {
            return OpenCapacity(channelsWithPayer: live.count, committedInflow: nil, assets: assets) // refused before the sum matters
        }
        // Our balance plus every deposit we may still be paid in this asset, checked.
        var committed: UInt128? = balance
        for channel in payees.values where channel.state != .settled && channel.terms.asset.id == assetID {
            guard let sum = committed else { break }
            let (next, overflow) = sum.addingReportingOverflow(channel.terms.deposit)
            committed = overflow ? nil : next
        }
        return OpenCapacity(channelsWithPayer: live.count, committedInflow: committed, assets: assets)
    }

    /// The payee signs a receipt for the latest voucher of each task id seen in the chunk (the
    /// evidence of what was paid for which request, Specs/channels.md §10).
    private mutating func issueReceipts(_ requests: [(ChannelID, String)], now: UInt64) -> [BookAction] {
        var out: [BookAction] = []
        for (id, task) in requests {
            guard payees[id] != nil else { continue }
            do {
                let (_, actions) = try payees[id]!.issueReceipt(taskID: task, now: now)
                out.append(.channel(id, peer: payees[id]!.terms.payer, actions))
            } catch {
                out.append(.log(.warning, "receipt not issued", ["channel": "\(id)", "error": "\(error)"]))
            }
        }
        return out
    }

    static func channelID(of m: Message) -> ChannelID? {
        switch m {
        case .paymentOpen(let x): x.channelID
        case .paymentUpdate(let x): x.channelID
        case .paymentClose(let x): x.channelID
        case .paymentAck(let x): x.channelID
        default: nil
        }
    }

    /// PAYMENT_ACK rejected for a message we cannot route.
    static func reject(_ m: Message, _ code: PaymeshErrorCode, _ reason: String) -> [ChannelAction] {
        guard let id = channelID(of: m) else { return [] }
        let nonce: UInt64
        switch m {
        case .paymentOpen(let x): nonce = x.nonce
        case .paymentUpdate(let x): nonce = x.nonce
        case .paymentClose(let x): nonce = x.finalNonce
        default: return []
        }
        guard let ack = try? PaymentAck(channelID: id, nonce: nonce, status: .rejected, reason: reason, errorCode: code) else { return [] }
        return [.send(.paymentAck(ack))]
    }
}

extension ErrorMessage {
    init(unchecked code: PaymeshErrorCode, _ text: String, _ about: Message) {
        // Codes and texts built here are in range; `try?` cannot fail.
        self = (try? ErrorMessage(code: code, message: text, refType: UInt64(about.type.rawValue)))!
    }
}
