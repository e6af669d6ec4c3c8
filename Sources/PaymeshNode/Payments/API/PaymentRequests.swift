import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages

// What the console's payment calls take and return (public: the console and the tests use them).

/// What `pay` is asked to do. A struct (not a long argument list): Swift 6.3.1 miscompiles some
/// async calls whose long argument lists carry several UInt128 values.
public struct PayRequest: Sendable {
    public var channels: [ChannelID]
    /// Increment per payment, atomic units.
    public var amount: UInt128
    public var taskID: String?
    /// Payments to make (round-robin over `channels`).
    public var count: Int
    /// Pace issuance at this many payments per second (nil: as fast as possible).
    public var ratePerSecond: Int?
    public var timeoutMillis: UInt64
    /// Called (on the payments actor: it must not block, e.g. an `AsyncStream` continuation's
    /// `yield`) with the burst's progress: when it starts, every `PayProgress.step` acknowledgements, at the end.
    public var onProgress: (@Sendable (PayProgress) -> Void)?

    public init(channels: [ChannelID], amount: UInt128, taskID: String? = nil, count: Int = 1, ratePerSecond: Int? = nil,
                timeoutMillis: UInt64 = 60_000, onProgress: (@Sendable (PayProgress) -> Void)? = nil) {
        self.onProgress = onProgress
        self.channels = channels
        self.amount = amount
        self.taskID = taskID
        self.count = count
        self.ratePerSecond = ratePerSecond
        self.timeoutMillis = timeoutMillis
    }
}

/// What `pay` did: how many vouchers it signed, what the payee acknowledged, and how long it took.
public struct PayOutcome: Sendable {
    public struct Acked: Sendable {
        public var channel: ChannelID
        public var latestNonce: UInt64
        public var paid: UInt128
        public var ackedNonce: UInt64
        public var ackedAmount: UInt128
    }

    public var signed: Int
    public var channels: [Acked]
    public var elapsedNanos: UInt64
    /// Sign-to-acknowledgement latency of each acknowledged voucher, sorted.
    public var latenciesNanos: [UInt64]
    /// Why the call stopped early (nil: every payment acknowledged).
    public var error: NodeError?
    /// The burst's id (`PayProgress.burst`, `cancelPay`).
    public var burst: UInt64 = 0
}

/// What `channel.open` asks for (a struct: see `PayRequest`).
public struct OpenRequest: Sendable {
    public var peer: EthereumAddress
    public var asset: Asset
    public var deposit: UInt128
    public var challengePeriodSeconds: UInt64
    public var chainID: UInt64
    public var timeoutMillis: UInt64
    /// The salt the channel id is derived from (Specs/channels.md §4); nil: 32 random bytes. A
    /// caller that must not open twice (the HTTP client, Specs/http402.md §11.4) fixes it first.
    public var salt: [UInt8]?

    public init(peer: EthereumAddress, asset: Asset, deposit: UInt128, challengePeriodSeconds: UInt64 = 3_600, chainID: UInt64 = 0,
                timeoutMillis: UInt64 = 15_000) {
        self.peer = peer
        self.asset = asset
        self.deposit = deposit
        self.challengePeriodSeconds = challengePeriodSeconds
        self.chainID = chainID
        self.timeoutMillis = timeoutMillis
    }
}

/// A channel as the console shows it.
public struct ChannelView: Sendable {
    public var snapshot: ChannelSnapshot
    public var peer: EthereumAddress
    /// Payer: highest acknowledged voucher; payee: the latest accepted one.
    public var ackedNonce: UInt64
    public var ackedAmount: UInt128
    public var unacknowledged: Int
}
