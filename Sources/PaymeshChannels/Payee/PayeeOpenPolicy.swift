public import PaymeshMessages

/// The terms a payee accepts in a PAYMENT_OPEN (Specs/channels.md §3.2). Violations answer
/// PAYMENT_ACK rejected with 1003 CHANNEL_DEPOSIT_INVALID (terms), 1102 (stale timestamp),
/// 1101 (signature) or 1201 (identity).
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

    public init(assets: Set<Asset>? = nil, settlements: Set<String> = [LocalLedger.id],
                challengePeriodSeconds: ClosedRange<UInt64> = 60...604_800, maxDeposit: UInt128? = nil,
                chainIDs: Set<UInt64>? = nil, maxClockSkewMillis: UInt64 = 300_000) {
        self.assets = assets
        self.settlements = settlements
        self.challengePeriodSeconds = challengePeriodSeconds
        self.maxDeposit = maxDeposit
        self.chainIDs = chainIDs
        self.maxClockSkewMillis = maxClockSkewMillis
    }

    /// Checks the open in the order of §3.2; throws the first violation.
    func check(_ open: PaymentOpen, payee: Address, authenticatedPeer: Address?, backing: UInt128?,
               now: UInt64) throws(ChannelError) {
        guard open.receiver == payee else { throw .init(.identityNotVerified, "the open is not addressed to this node") }
        if let authenticatedPeer, authenticatedPeer != open.sender {
            throw .init(.identityNotVerified, "the open's sender is not the authenticated peer")
        }
        do { try open.verify() } catch { throw .invalidSignature(error.detail) }
        let skew = now >= open.timestamp ? now - open.timestamp : open.timestamp - now
        guard skew <= maxClockSkewMillis else { throw .expired("open timestamp is \(skew) ms from our clock") }
        let deposit = open.totalDeposit.atomicUnits
        guard deposit > 0 else { throw .depositInvalid("deposit must be positive") }
        if let maxDeposit, deposit > maxDeposit { throw .depositInvalid("deposit above \(maxDeposit)") }
        if let assets, !assets.contains(open.asset) { throw .depositInvalid("asset \(open.asset) not accepted") }
        guard settlements.contains(open.settlement) else { throw .depositInvalid("settlement backend not supported") }
        guard challengePeriodSeconds.contains(open.challengePeriodSeconds) else {
            throw .depositInvalid("challenge period outside \(challengePeriodSeconds) s")
        }
        if let chainIDs, !chainIDs.contains(open.chainID) { throw .depositInvalid("chain id not accepted") }
        if let backing, backing < deposit { throw .depositInvalid("deposit is not backed by the settlement backend") }
    }
}
