public import PaymeshChannels
public import PaymeshCrypto
public import PaymeshMessages

/// A payer channel this node could pay a requirement through (the node's view, passed in).
public struct PayableChannel: Sendable, Hashable {
    public var channelID: ChannelID
    public var payee: EthereumAddress
    public var asset: Asset
    /// CAIP-2 network of the channel's EIP-712 domain (`ChannelScheme.network(of:)`).
    public var network: String
    /// deposit − paid − locked: what one more voucher may add.
    public var available: UInt128

    public init(channelID: ChannelID, payee: EthereumAddress, asset: Asset, network: String, available: UInt128) {
        self.channelID = channelID
        self.payee = payee
        self.asset = asset
        self.network = network
        self.available = available
    }
}

/// Which offer of a 402 answer the node pays, and through what (Specs/http402.md §11.3). Sans-IO
/// and total: every refusal is a `Pay402Error` with its code, and nothing is paid on one.
public enum PaymentChoice: Sendable, Hashable {
    /// The channel scheme through one of the node's own channels to the payee.
    case channel(PaymentOffers.Requirement, PaymentRequirements, through: ChannelID)
    /// The L402 invoice, paid over a route for `price` (the invoice's amount, decoded by the caller).
    case l402(PaymentOffers.L402Offer, price: UInt128)
    /// The channel scheme through a channel to `payTo` the node opens for this request with
    /// `deposit` (its spending policy's `autoOpen` terms allow it; §11.3).
    case openChannel(PaymentOffers.Requirement, PaymentRequirements, deposit: UInt128)

    /// What the node may open for a request (the node's view, passed in): its policy (the
    /// `autoOpen` terms, the allow and deny lists, `maxPerPayment`), the deposits of its unsettled
    /// payer channels, and the decimals of the assets on its ledger.
    public struct Opening: Sendable, Hashable {
        public var policy: SpendingPolicy
        /// Deposits of unsettled payer channels (any state but SETTLED), by payee and asset id.
        public var deposits: [PeerAsset: UInt128]
        /// Decimals of each asset id the node's ledger holds.
        public var ledgerDecimals: [String: UInt8]

        public struct PeerAsset: Sendable, Hashable {
            public var payee: EthereumAddress
            public var asset: String
            public init(_ payee: EthereumAddress, _ asset: String) {
                self.payee = payee
                self.asset = asset
            }
        }

        public init(policy: SpendingPolicy, deposits: [PeerAsset: UInt128], ledgerDecimals: [String: UInt8]) {
            self.policy = policy
            self.deposits = deposits
            self.ledgerDecimals = ledgerDecimals
        }

        /// The deposit of a channel the node may open to `payee` in `asset` for a payment of
        /// `price`, or why not: nil reason + nil deposit when the policy opens nothing in that asset.
        func deposit(to payee: EthereumAddress, asset: String, decimals: Int, price: UInt128) -> Result<UInt128, Refusal>? {
            guard let terms = policy.autoOpen[asset] else { return nil }
            if policy.denyList.contains(payee) { return .failure(.init("\(payee) is on the deny list")) }
            if let allow = policy.allowList, !allow.contains(payee) { return .failure(.init("\(payee) is not on the allow list")) }
            guard let ledger = ledgerDecimals[asset] else { return .failure(.init("this node has no \(asset) on its ledger")) }
            guard Int(ledger) == decimals else { return .failure(.init("\(asset) has \(decimals) decimals in the offer, \(ledger) on the ledger")) }
            guard terms.deposit >= price else {
                return .failure(.init("the auto_open deposit \(terms.deposit) is below the price \(price)"))
            }
            if let max = policy.maxPerPayment, price > max { return .failure(.init("the price \(price) is above max_per_payment \(max)")) }
            let toPeer = deposits[PeerAsset(payee, asset)] ?? 0
            if let max = terms.maxPerPeer, toPeer > max || terms.deposit > max - toPeer {
                return .failure(.init("deposits to \(payee) would be \(toPeer) + \(terms.deposit), above max_per_peer \(max)"))
            }
            let total = deposits.filter { $0.key.asset == asset }.values.reduce(UInt128(0)) { $0 &+ $1 }
            if let max = terms.maxTotal, total > max || terms.deposit > max - total {
                return .failure(.init("deposits in \(asset) would be \(total) + \(terms.deposit), above max_total \(max)"))
            }
            return .success(terms.deposit)
        }

        struct Refusal: Error {
            let reason: String
            init(_ reason: String) { self.reason = reason }
        }
    }

    /// The most the caller lets one request cost: atomic units of `asset` (nil: any asset the
    /// offer names, the number read in that asset's atomic units).
    public struct MaxPrice: Sendable, Hashable {
        public var amount: UInt128
        public var asset: String?
        public init(amount: UInt128, asset: String? = nil) {
            self.amount = amount
            self.asset = asset
        }
    }

    /// Chooses, in this order (§11.3): the first channel-scheme requirement (in offer order) that
    /// is well-formed, within `maxPrice`, and payable through a channel of `channels` to its
    /// `payTo` in its asset and network with enough available; else the L402 offer when
    /// `l402Price` (the invoice's amount, nil when the invoice could not be paid) is within
    /// `maxPrice`; else a new channel for the first requirement `opening` allows one for.
    /// Refusals: 1482 FETCH_PRICE_ABOVE_MAX when a payable offer costs more than `maxPrice`;
    /// 1488 FETCH_CHANNEL_OPEN_REFUSED when a channel could only be opened against the policy's
    /// limits; 1481 FETCH_NO_PAYABLE_SCHEME otherwise, naming why each offer was passed over.
    public static func choose(_ offers: PaymentOffers, maxPrice: MaxPrice, channels: [PayableChannel],
                              l402Price: UInt128? = nil, l402Asset: String? = nil, opening: Opening? = nil) throws(Pay402Error) -> PaymentChoice {
        var reasons: [String] = []
        var overMax: [String] = []
        var openRefused: [String] = []
        var toOpen: PaymentChoice?
        for r in offers.requirements {
            guard r.scheme == ChannelScheme.name else { reasons.append("scheme \(r.scheme) is not supported"); continue }
            guard let extra = r.extra, let requirements = r.paymentRequirements else {
                reasons.append("\(r.scheme): extra is not the channel scheme's"); continue
            }
            guard extra.name == "Paymesh", extra.version == "1", let chainID = UInt64(extra.chainId), String(chainID) == extra.chainId,
                  r.network == ChannelScheme.network(chainID: chainID) else {
                reasons.append("\(r.scheme): the network \(r.network) is not the EIP-712 domain of extra"); continue
            }
            // A metered unit is paid step by step (§12.4): `amount` is the first step, the maximum the cap.
            // Seconds are paid as steps of upstream time (§12.6).
            guard extra.unit == "call" || MeteredPurchase(requirements, cap: maxPrice.amount) != nil
                    || TimedPurchase(requirements, cap: maxPrice.amount) != nil else {
                reasons.append("\(r.scheme): unit \(extra.unit) is not bought (call, or byte, token and second with step and unitPrice)"); continue
            }
            guard r.amount > 0 else { reasons.append("\(r.scheme): a price of zero"); continue }
            let normalized = Asset.normalizedID(r.asset)
            if let asset = maxPrice.asset, Asset.normalizedID(asset) != normalized {
                reasons.append("\(r.scheme): priced in \(r.asset), the maximum is in \(asset)"); continue
            }
            let candidates = channels.filter { $0.payee == r.payTo && $0.asset.id == normalized && $0.network == r.network }
            let mayOpen = opening?.policy.autoOpen[normalized] != nil
            guard !candidates.isEmpty || mayOpen else {
                reasons.append("\(r.scheme): no open channel to \(r.payTo) in \(r.asset) on \(r.network) (auto_open is off for \(normalized))"); continue
            }
            if let decimals = candidates.first?.asset.decimals, extra.decimals != Int(decimals) {
                reasons.append("\(r.scheme): \(r.asset) has \(extra.decimals) decimals in the offer, \(decimals) in the channel"); continue
            }
            guard r.amount <= maxPrice.amount else {
                overMax.append("\(r.amount) atomic units of \(r.asset) to \(r.payTo)"); continue
            }
            // No channel can pay it: one opened for it, when the policy allows (kept until the L402 offer is weighed).
            func open(_ why: String) {
                switch opening?.deposit(to: r.payTo, asset: normalized, decimals: extra.decimals, price: r.amount) {
                case nil:
                    reasons.append("\(r.scheme): \(why) (auto_open is off for \(normalized))")
                case .failure(let refusal)?:
                    openRefused.append("\(r.scheme): \(why); a channel is not opened: \(refusal.reason)")
                case .success(let deposit)?:
                    if toOpen == nil { toOpen = .openChannel(r, requirements, deposit: deposit) }
                }
            }
            guard !candidates.isEmpty else {
                open("no open channel to \(r.payTo) in \(r.asset) on \(r.network)"); continue
            }
            // The channel the gateway names first (extra.channelId), then the one with the most available.
            let named = extra.channelId.flatMap { try? ChannelID(hex: $0) }
            let ordered = candidates.sorted { a, b in
                (a.channelID == named ? 1 : 0, a.available) > (b.channelID == named ? 1 : 0, b.available)
            }
            guard let channel = ordered.first(where: { $0.available >= r.amount }) else {
                open("no channel to \(r.payTo) has \(r.amount) available"); continue
            }
            return .channel(r, requirements, through: channel.channelID)
        }
        if let l402 = offers.l402 {
            if let price = l402Price, price > 0 {
                if let asset = maxPrice.asset, let l402Asset, Asset.normalizedID(asset) != Asset.normalizedID(l402Asset) {
                    reasons.append("L402: the invoice is in \(l402Asset), the maximum is in \(asset)")
                } else if price > maxPrice.amount {
                    overMax.append("an L402 invoice of \(price) atomic units")
                } else {
                    return .l402(l402, price: price)
                }
            } else {
                reasons.append("L402: the invoice cannot be paid by this node")
            }
        }
        if let toOpen { return toOpen }
        if !overMax.isEmpty {
            throw Pay402Error(.fetchPriceAboveMax, "the price (\(overMax.joined(separator: ", "))) is above the maximum \(maxPrice.amount); nothing was paid")
        }
        if !openRefused.isEmpty {
            throw Pay402Error(.fetchChannelOpenRefused, "no offer can be paid: " + (openRefused + reasons).prefix(6).joined(separator: "; "))
        }
        throw Pay402Error(.fetchNoPayableScheme, "no offer can be paid: " + (reasons.isEmpty ? "none offered" : reasons.prefix(6).joined(separator: "; ")))
    }
}
