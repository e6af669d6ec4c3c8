public import Logging
public import PaymeshCrypto
public import PaymeshMessages

/// The thin driver of the `NegotiationBook` (Specs/negotiation.md): NEGOTIATE_* messages arrive
/// from the payments stream through a bounded queue, local calls come from the console; the book
/// decides and this actor performs what it returns, in order — an agreement is durable in the
/// `ServiceMarket` before the ACCEPT that concludes it is sent. Deadlines (expiry) run on the
/// injected clock with one sleeping task. A buyer that asked for it opens the agreed channel
/// (the agreed deposit, to the seller) once the agreement is durable.
public actor NegotiationService {
    /// NEGOTIATE_* messages waiting for this actor; beyond it a message is answered with ERROR 1504.
    public static let maxQueued = 256

    let key: IdentityKey
    let payments: PaymentsService
    let peers: PeerManager
    let market: ServiceMarket
    let events: NodeEventHub
    let clock: any NodeClock
    let random: NodeRandom
    let logger: Logger
    private var book: NegotiationBook
    private var sleeper = DeadlineSleeper()
    private let inbox: AsyncStream<(EthereumAddress, Message)>
    private let inboxContinuation: AsyncStream<(EthereumAddress, Message)>.Continuation
    /// Buyer negotiations whose agreement opens a channel, and the channel opened (or why not).
    private var openOnAgreement: Set<NegotiationID> = []
    public private(set) var channelOutcomes: [NegotiationID: Result<ChannelID, NodeError>] = [:]
    private var stopped = false

    init(key: IdentityKey, payments: PaymentsService, peers: PeerManager, market: ServiceMarket, events: NodeEventHub,
         clock: any NodeClock, random: NodeRandom, logger: Logger) {
        self.key = key
        self.payments = payments
        self.peers = peers
        self.market = market
        self.events = events
        self.clock = clock
        self.random = random
        self.logger = logger
        book = NegotiationBook(key: key)
        (inbox, inboxContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingOldest(Self.maxQueued))
    }

    /// Creates the service and routes the payments stream's NEGOTIATE_* messages to it.
    public static func start(key: IdentityKey, payments: PaymentsService, peers: PeerManager, market: ServiceMarket, events: NodeEventHub,
                             clock: any NodeClock, random: NodeRandom, logger: Logger = .silent) async -> NegotiationService {
        let service = NegotiationService(key: key, payments: payments, peers: peers, market: market, events: events, clock: clock,
                                         random: random, logger: logger)
        let continuation = service.inboxContinuation
        await payments.setNegotiationInbox { peer, message in
            if case .enqueued = continuation.yield((peer, message)) { return true }
            return false
        }
        return service
    }

    /// Handles queued messages until `shutdown()`.
    public func run() async {
        for await (peer, message) in inbox { await received(message, from: peer) }
    }

    public func shutdown() async {
        stopped = true
        sleeper.stop()
        await payments.setNegotiationInbox(nil)
        inboxContinuation.finish()
    }

    private func now() -> UInt64 { clock.unixMillis }

    // MARK: Console calls

    /// What `negotiate.propose` asks for.
    public struct Proposal: Sendable {
        public var peer: EthereumAddress
        public var service: String
        public var price: UInt128
        public var unit: String
        public var asset: Asset
        public var deposit: UInt128
        public var latencyP99Millis: UInt32
        public var errorRateBasisPoints: UInt16
        public var termSeconds: UInt32
        public var timeoutSeconds: UInt64
        public var limits: BuyerLimits
        /// Open a channel with the agreed deposit to the seller once agreed.
        public var openChannel: Bool

        public init(peer: EthereumAddress, service: String, price: UInt128, unit: String = NegotiationLimits.defaultUnit, asset: Asset,
                    deposit: UInt128, latencyP99Millis: UInt32 = 0, errorRateBasisPoints: UInt16 = NegotiationLimits.noErrorRateCommitment,
                    termSeconds: UInt32 = NegotiationLimits.defaultTermSeconds, timeoutSeconds: UInt64 = 300,
                    limits: BuyerLimits = BuyerLimits(), openChannel: Bool = false) {
            self.peer = peer
            self.service = service
            self.price = price
            self.unit = unit
            self.asset = asset
            self.deposit = deposit
            self.latencyP99Millis = latencyP99Millis
            self.errorRateBasisPoints = errorRateBasisPoints
            self.termSeconds = termSeconds
            self.timeoutSeconds = timeoutSeconds
            self.limits = limits
            self.openChannel = openChannel
        }
    }

    public func propose(_ p: Proposal) async throws(NodeError) -> Negotiation {
        guard !stopped else { throw .shuttingDown() }
        guard MessageLimits.negotiationTimeoutSeconds.contains(p.timeoutSeconds) else { throw .invalidParams("timeout must be 1…86400 s") }
        guard await peers.connection(to: p.peer) != nil else { throw .peerNotConnected(p.peer.description) }
        let id: NegotiationID
        do { id = try NegotiationID(random.bytes(NegotiationID.byteCount)) } catch { preconditionFailure("16 random bytes make an id") }
        let now = now()
        let terms = NegotiationTerms(negotiationID: id, buyer: key.address, seller: p.peer, service: p.service, price: Amount(p.price),
                                     unit: p.unit, asset: p.asset, deposit: Amount(p.deposit), latencyP99Millis: p.latencyP99Millis,
                                     errorRateBasisPoints: p.errorRateBasisPoints, termSeconds: p.termSeconds,
                                     expiresAt: now.addingClamped(p.timeoutSeconds * 1_000))
        let actions = try book.propose(terms, timeoutSeconds: p.timeoutSeconds, limits: p.limits, now: now)
        if p.openChannel { openOnAgreement.insert(id) }
        await perform(actions)
        return book.negotiation(id)!
    }

    /// Counters the offer on the table; nil fields keep the offer's value.
    public func counter(_ id: NegotiationID, price: UInt128?, deposit: UInt128? = nil, latencyP99Millis: UInt32? = nil,
                        errorRateBasisPoints: UInt16? = nil, termSeconds: UInt32? = nil) async throws(NodeError) -> Negotiation {
        guard var t = book.negotiation(id)?.terms else { throw .paymesh(.negotiationNotFound, "no negotiation \(id)") }
        if let price { t.price = Amount(price) }
        if let deposit { t.deposit = Amount(deposit) }
        if let latencyP99Millis { t.latencyP99Millis = latencyP99Millis }
        if let errorRateBasisPoints { t.errorRateBasisPoints = errorRateBasisPoints }
        if let termSeconds { t.termSeconds = termSeconds }
        await perform(try book.counter(id, with: t, now: now()))
        return book.negotiation(id)!
    }

    public func accept(_ id: NegotiationID) async throws(NodeError) -> Negotiation {
        await perform(try book.accept(id, now: now()))
        return book.negotiation(id)!
    }

    public func reject(_ id: NegotiationID, reason: String) async throws(NodeError) -> Negotiation {
        guard MessageLimits.reasonBytes.contains(reason.utf8.count) else { throw .invalidParams("reason is at most 256 bytes") }
        await perform(try book.reject(id, reason: reason, now: now()))
        return book.negotiation(id)!
    }

    public func negotiation(_ id: NegotiationID) -> Negotiation? { book.negotiation(id) }

    /// Open negotiations first, then the finished ones still remembered; newest offer first.
    public func list() -> [Negotiation] {
        book.all.sorted { ($0.status == .open ? 0 : 1, -Int64(clamping: $0.offerTimestamp)) < ($1.status == .open ? 0 : 1, -Int64(clamping: $1.offerTimestamp)) }
    }

    // MARK: Received

    func received(_ m: Message, from peer: EthereumAddress) async {
        guard !stopped else { return }
        // The seller's terms for the service named (by the proposal, or the negotiation's terms).
        let service: String?
        switch m {
        case .negotiatePropose(let p): service = p.serviceType
        case .negotiateCounter(let c): service = book.negotiation(c.negotiationID)?.terms.service
        default: service = nil
        }
        var terms: SellerTerms?
        if let service { terms = await market.sellerTerms(service) }
        let actions = book.onMessage(m, from: peer, now: now()) { name in name == service ? terms : nil }
        await perform(actions)
    }

    // MARK: Performing

    private func perform(_ actions: [NegotiationAction]) async {
        var queue = actions[...]
        while let action = queue.popFirst() {
            switch action {
            case .store(let agreement):
                do { try await market.store(agreement) } catch {
                    logger.error("cannot store an agreement", metadata: ["id": "\(agreement.terms.negotiationID)", "error": "\(error)"])
                    queue = book.storeFailed(agreement, now: now())[...] // nothing after the store happens
                    continue
                }
                if agreement.terms.buyer == key.address, openOnAgreement.remove(agreement.terms.negotiationID) != nil {
                    openChannel(for: agreement)
                }
            case .send(let message, let peer):
                do { try await payments.sendNegotiation(message, to: peer) } catch {
                    logger.notice("negotiation message not sent", metadata: ["peer": "\(peer)", "error": "\(error)"])
                }
            case .event(let e):
                events.publish(.market(e))
            case .misbehaved(let peer, let reason):
                await peers.reportMisbehaviour(peer, reason: reason)
            }
        }
        armDeadline()
    }

    /// Opens the agreed channel in a task of its own (the open waits for the seller's answer; this
    /// actor keeps handling messages meanwhile); its outcome is kept for `negotiate.list`.
    private func openChannel(for a: Agreement) {
        let payments = self.payments, id = a.terms.negotiationID
        let request = OpenRequest(peer: a.terms.seller, asset: a.terms.asset, deposit: a.terms.deposit.atomicUnits)
        Task {
            let outcome: Result<ChannelID, NodeError>
            do throws(NodeError) { outcome = .success(try await payments.openChannel(request).snapshot.channelID) } catch { outcome = .failure(error) }
            await self.channelOpened(id, outcome)
        }
    }

    private func channelOpened(_ id: NegotiationID, _ outcome: Result<ChannelID, NodeError>) {
        channelOutcomes[id] = outcome
        events.publish(.market(.agreementChannel(id, channel: try? outcome.get())))
        if case .failure(let error) = outcome {
            logger.warning("the agreed channel was not opened", metadata: ["negotiation": "\(id)", "error": "\(error)"])
        }
    }

    private func armDeadline() {
        guard !stopped, let deadline = book.nextDeadline else { return }
        sleeper.arm(clock.instant(atUnixMillis: deadline), clock: clock) { [weak self] generation in await self?.deadlineDue(generation) }
    }

    private func deadlineDue(_ generation: UInt64) async {
        guard sleeper.woke(generation) else { return }
        await perform(book.onTick(now: now()))
    }
}
