public import PaymeshCrypto
public import PaymeshMessages

/// What the node knows of its other channels when an open arrives (Specs/channels.md §3.2 steps 1b
/// and 4): the payee's side of the limits a payer cannot get round by opening many channels.
public struct OpenCapacity: Sendable, Hashable {
    /// Channels this node has with the open's payer that are not SETTLED.
    public var channelsWithPayer: Int
    /// What this node could already be paid in the open's asset (by id): its own balance plus the
    /// deposits of its payee channels that are not SETTLED; nil when that sum passes 2^128 − 1.
    public var committedInflow: UInt128?
    /// The node's asset registry: the open's asset id must be normalised and, when known, have
    /// the registered decimals (1106 ASSET_MISMATCH); nil skips the check.
    public var assets: AssetRegistry?

    public init(channelsWithPayer: Int, committedInflow: UInt128?, assets: AssetRegistry? = nil) {
        self.channelsWithPayer = channelsWithPayer
        self.committedInflow = committedInflow
        self.assets = assets
    }
}

/// The terms a payee accepts in a PAYMENT_OPEN (Specs/channels.md §3.2). Violations answer
/// PAYMENT_ACK rejected with 1003 CHANNEL_DEPOSIT_INVALID (terms), 1102 (stale timestamp),
/// 1101 (signature), 1005 (too many channels with the payer) or 1201 (identity).
public struct PayeeOpenPolicy: Sendable, Hashable {
    /// Assets accepted (id and decimals must both match); nil accepts any.
    public var assets: Set<Asset>?
    /// Settlement backend ids accepted.
    public var settlements: Set<String>
    public var challengePeriodSeconds: ClosedRange<UInt64>
    public var maxDeposit: UInt128?
    /// EIP-712 chain ids accepted; nil accepts any.
    public var chainIDs: Set<UInt64>?
    /// How far the open's timestamp may be from our clock (ms).
    public var maxClockSkewMillis: UInt64
    /// At most this many channels with one payer that are not SETTLED (§3.2 step 1b); an open
    /// beyond is refused with 1005 before its signature is checked.
    public var maxChannelsPerPeer: Int

    /// The default of `maxChannelsPerPeer`: ample for a payer that keeps one channel per asset or
    /// task, small enough that one identity cannot make the node hold and persist thousands.
    public static let defaultMaxChannelsPerPeer = 64

    public init(assets: Set<Asset>? = nil, settlements: Set<String> = [LedgerRules.localLedgerID],
                challengePeriodSeconds: ClosedRange<UInt64> = 60...604_800, maxDeposit: UInt128? = nil,
                chainIDs: Set<UInt64>? = nil, maxClockSkewMillis: UInt64 = 300_000,
                maxChannelsPerPeer: Int = PayeeOpenPolicy.defaultMaxChannelsPerPeer) {
        self.assets = assets
        self.settlements = settlements
        self.challengePeriodSeconds = challengePeriodSeconds
        self.maxDeposit = maxDeposit
        self.chainIDs = chainIDs
        self.maxClockSkewMillis = maxClockSkewMillis
        self.maxChannelsPerPeer = maxChannelsPerPeer
    }

    /// Checks the open in the order of §3.2; throws the first violation. `capacity` is nil when the
    /// caller keeps no other channels (the per-payer and overflow checks are skipped).
    func check(_ open: PaymentOpen, payee: EthereumAddress, authenticatedPeer: EthereumAddress?, backing: UInt128?,
               capacity: OpenCapacity? = nil, now: UInt64) throws(ChannelError) {
        guard open.receiver == payee else { throw .init(.identityNotVerified, "the open is not addressed to this node") }
        if let authenticatedPeer, authenticatedPeer != open.sender {
            throw .init(.identityNotVerified, "the open's sender is not the authenticated peer")
        }
        if let capacity, capacity.channelsWithPayer >= maxChannelsPerPeer {
            throw .limitExceeded("the payer already has \(capacity.channelsWithPayer) channels not settled (limit \(maxChannelsPerPeer))")
        }
        do { try open.verify() } catch { throw .invalidSignature(error.detail) }
        let skew = now >= open.timestamp ? now - open.timestamp : open.timestamp - now
        guard skew <= maxClockSkewMillis else { throw .expired("open timestamp is \(skew) ms from our clock") }
        let deposit = open.totalDeposit.atomicUnits
        guard deposit > 0 else { throw .depositInvalid("deposit must be positive") }
        if let maxDeposit, deposit > maxDeposit { throw .depositInvalid("deposit above \(maxDeposit)") }
        if let assets, !assets.contains(open.asset) { throw .depositInvalid("asset \(open.asset) not accepted") }
        try capacity?.assets?.check(open.asset)
        guard settlements.contains(open.settlement) else { throw .depositInvalid("settlement backend not supported") }
        guard challengePeriodSeconds.contains(open.challengePeriodSeconds) else {
            throw .depositInvalid("challenge period outside \(challengePeriodSeconds) s")
        }
        if let chainIDs, !chainIDs.contains(open.chainID) { throw .depositInvalid("chain id not accepted") }
        if let backing, backing < deposit { throw .depositInvalid("deposit is not backed by the settlement backend") }
        if let capacity {
            // Every amount this node may be paid must stay representable in its books.
            guard let committed = capacity.committedInflow, !committed.addingReportingOverflow(deposit).overflow else {
                throw .depositInvalid("deposit would let this node's \(open.asset.id) balance pass 2^128 - 1")
            }
        }
    }
}
