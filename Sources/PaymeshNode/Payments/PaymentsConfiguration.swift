import PaymeshChannels
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

    public init(synchronous: StoreConfiguration.Synchronous = .full, openPolicy: PayeeOpenPolicy = PayeeOpenPolicy(),
                maxUnacknowledged: Int = 8_192, signBatch: Int = 256, maxProposedChannelsPerPeer: Int = 8) {
        self.synchronous = synchronous
        self.openPolicy = openPolicy
        self.maxProposedChannelsPerPeer = maxProposedChannelsPerPeer
        self.maxUnacknowledged = maxUnacknowledged
        self.signBatch = signBatch
    }

    /// Defaults, with `PAYMESH_SYNC` (full | normal) read from `environment`.
    public static func fromEnvironment(_ environment: [String: String]) -> PaymentsConfiguration {
        var c = PaymentsConfiguration()
        if environment["PAYMESH_SYNC"]?.lowercased() == "normal" { c.synchronous = .normal }
        return c
    }
}
