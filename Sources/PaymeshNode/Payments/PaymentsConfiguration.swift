import PaymeshChannels
import PaymeshMessages
import PaymeshStore

/// Settings of the payments layer. The defaults are what `paymesh start` uses.
public struct PaymentsConfiguration: Sendable {
    /// File name of the channel store inside the data directory (Specs/storage.md).
    public static let storeFileName = "channels.sqlite"

    /// SQLite `synchronous`: FULL (default) survives power loss; NORMAL survives a process crash
    /// (kill -9) only. `PAYMESH_SYNC=normal` selects NORMAL (benchmarks).
    public var synchronous: StoreConfiguration.Synchronous
    /// What a payee accepts in PAYMENT_OPEN (Specs/channels.md §3.2), including
    /// `maxChannelsPerPeer`, the most channels one payer may have with this node (1005 beyond).
    public var openPolicy: PayeeOpenPolicy
    /// At most this many channels this node proposed to one peer may wait for its answer (PROPOSED);
    /// `channel.open` beyond is refused with 1005 CHANNEL_LIMIT_EXCEEDED (Specs/channels.md §3.1).
    public var maxProposedChannelsPerPeer: Int
    /// At most this many vouchers per channel are signed and not yet acknowledged; `pay` waits
    /// for acknowledgements beyond it (bounds memory and the payee's backlog).
    public var maxUnacknowledged: Int
    /// At most this many vouchers are signed per actor turn before acks get a chance to run.
    public var signBatch: Int
    /// Assets whose decimals are fixed by configuration (id → decimals; `paymesh start --asset
    /// USDC:6`); other ids are fixed by their first use (Specs/README.md, "Money").
    public var assets: [String: UInt8] = [:]
    /// Limits and forwarding terms of the HTLC book (Specs/channels.md §12.9).
    public var htlcPolicy = HTLCPolicy()
    /// How long a payment over a route (`payRoute`) waits for its first channel's plain vouchers to be
    /// acknowledged before it takes the channel over (Specs/channels.md §12.10), on the injected
    /// clock; past it the attempt fails locally with 1408. Ten seconds: a payee acknowledges in
    /// milliseconds unless it is offline.
    public var htlcTakeOverWaitMillis: UInt64 = 10_000

    public init(synchronous: StoreConfiguration.Synchronous = .full, openPolicy: PayeeOpenPolicy = PayeeOpenPolicy(),
                maxUnacknowledged: Int = 8_192, signBatch: Int = 256, maxProposedChannelsPerPeer: Int = 8) {
        self.synchronous = synchronous
        self.openPolicy = openPolicy
        self.maxProposedChannelsPerPeer = maxProposedChannelsPerPeer
        self.maxUnacknowledged = maxUnacknowledged
        self.signBatch = signBatch
    }

    /// Defaults, with `PAYMESH_SYNC` (full | normal) and `PAYMESH_MAX_CHANNELS_PER_PEER` (a payer's
    /// channels not SETTLED that this node accepts, 1…1,000,000; Specs/channels.md §3.2) read from
    /// `environment`. A value out of range or not a number is kept as 0, which the payments service
    /// refuses at start with a clear error (never a silent default).
    public static func fromEnvironment(_ environment: [String: String]) -> PaymentsConfiguration {
        var c = PaymentsConfiguration()
        if environment["PAYMESH_SYNC"]?.lowercased() == "normal" { c.synchronous = .normal }
        if let text = environment["PAYMESH_MAX_CHANNELS_PER_PEER"], !text.isEmpty {
            let n = Int(text) ?? 0
            c.openPolicy.maxChannelsPerPeer = (1...1_000_000).contains(n) ? n : 0
        }
        return c
    }

    /// "USDC:6" items → normalised id → decimals; a bad item or one id twice is a configuration error.
    public static func parseAssets(_ items: [String]) throws(NodeError) -> [String: UInt8] {
        var assets: [String: UInt8] = [:]
        for item in items {
            let parts = item.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 2, let d = UInt8(parts[1]), let asset = try? Asset(id: Asset.normalizedID(String(parts[0])), decimals: d) else {
                throw .configuration("asset \(item): expected ID:DECIMALS with an id of 1–32 bytes and decimals 0–36 (e.g. USDC:6)")
            }
            guard assets.updateValue(asset.decimals, forKey: asset.id) == nil else { throw .configuration("asset \(asset.id) is configured twice") }
        }
        return assets
    }
}
