internal import CSQLite
import PaymeshCrypto
import PaymeshMessages

/// The one error type of PaymeshStore: a struct wrapping a private code, so new cases never break
/// callers that switch over it. Each failure has a cold-path factory.
///
/// Two families: a request the store refused (stale nonce, unknown channel, broken receipt chain…),
/// after which the store is fine and nothing of that request was written; and a database failure
/// (I/O error, corrupt or foreign file, newer schema), reported with SQLite's code and message.
public struct StoreError: Error, Hashable, CustomStringConvertible, Sendable {
    private enum Code: Hashable, Sendable {
        case sqlite(code: Int32, message: String, context: String)
        case notADatabase(path: String)
        case foreignDatabase(applicationID: Int32)
        case schemaTooNew(found: Int, supported: Int)
        case corrupt(String)
        case damagedFile(code: Int32, message: String, context: String)
        case diskFull(path: String, code: Int32, context: String)
        case inconsistent(String)
        case writerStopped(String)
        case unknownChannel(ChannelID)
        case duplicateChannel(ChannelID)
        case staleVoucher(ChannelID, nonce: UInt64, latest: UInt64)
        case amountDecreased(ChannelID, nonce: UInt64)
        case exceedsDeposit(ChannelID, nonce: UInt64)
        case receiptOutOfOrder(ChannelID, seq: UInt64, expected: UInt64)
        case receiptChainBroken(ChannelID, seq: UInt64)
        case insufficientBalance(owner: EthereumAddress, asset: String)
        case insufficientEscrow(ChannelID)
        case balanceOverflow(String)
        case valueOutOfRange(String)
        case closed
        case failed(String)
    }

    private let code: Code
    private init(_ code: Code) { self.code = code }

    @inline(never) static func sqlite(code: Int32, message: String, context: String) -> Self {
        .init(.sqlite(code: code, message: message, context: context))
    }
    @inline(never) public static func notADatabase(path: String) -> Self { .init(.notADatabase(path: path)) }
    @inline(never) public static func foreignDatabase(applicationID: Int32) -> Self {
        .init(.foreignDatabase(applicationID: applicationID))
    }
    @inline(never) public static func schemaTooNew(found: Int, supported: Int) -> Self {
        .init(.schemaTooNew(found: found, supported: supported))
    }
    @inline(never) public static func corrupt(_ what: String) -> Self { .init(.corrupt(what)) }
    /// SQLite itself found the file damaged (SQLITE_CORRUPT).
    @inline(never) static func damagedFile(code: Int32, message: String, context: String) -> Self {
        .init(.damagedFile(code: code, message: message, context: context))
    }
    /// The filesystem holding `path` has no space left (SQLITE_FULL, or an I/O error with ENOSPC).
    @inline(never) public static func diskFull(path: String, code: Int32, context: String) -> Self {
        .init(.diskFull(path: path, code: code, context: context))
    }
    /// The file is sound SQLite but its contents contradict themselves (found by `verify()`).
    @inline(never) public static func inconsistent(_ what: String) -> Self { .init(.inconsistent(what)) }
    /// The writer met an unrecoverable failure and refuses every further write.
    @inline(never) static func writerStopped(_ why: String) -> Self { .init(.writerStopped(why)) }
    @inline(never) public static func unknownChannel(_ id: ChannelID) -> Self { .init(.unknownChannel(id)) }
    @inline(never) public static func duplicateChannel(_ id: ChannelID) -> Self { .init(.duplicateChannel(id)) }
    @inline(never) public static func staleVoucher(_ id: ChannelID, nonce: UInt64, latest: UInt64) -> Self {
        .init(.staleVoucher(id, nonce: nonce, latest: latest))
    }
    @inline(never) public static func amountDecreased(_ id: ChannelID, nonce: UInt64) -> Self {
        .init(.amountDecreased(id, nonce: nonce))
    }
    @inline(never) public static func exceedsDeposit(_ id: ChannelID, nonce: UInt64) -> Self {
        .init(.exceedsDeposit(id, nonce: nonce))
    }
    @inline(never) public static func receiptOutOfOrder(_ id: ChannelID, seq: UInt64, expected: UInt64) -> Self {
        .init(.receiptOutOfOrder(id, seq: seq, expected: expected))
    }
    @inline(never) public static func receiptChainBroken(_ id: ChannelID, seq: UInt64) -> Self {
        .init(.receiptChainBroken(id, seq: seq))
    }
    @inline(never) public static func insufficientBalance(owner: EthereumAddress, asset: String) -> Self {
        .init(.insufficientBalance(owner: owner, asset: asset))
    }
    @inline(never) public static func insufficientEscrow(_ id: ChannelID) -> Self { .init(.insufficientEscrow(id)) }
    /// A ledger request whose amounts would make a balance or an escrow pass 2^128 − 1.
    @inline(never) public static func balanceOverflow(_ what: String) -> Self { .init(.balanceOverflow(what)) }
    @inline(never) public static func valueOutOfRange(_ what: String) -> Self { .init(.valueOutOfRange(what)) }
    @inline(never) public static func closed() -> Self { .init(.closed) }
    @inline(never) public static func failed(_ why: String) -> Self { .init(.failed(why)) }

    /// The voucher's nonce is not above the stored latest one: a replay, a reordering or a
    /// reused nonce. Nothing was written.
    public var isStaleVoucher: Bool { if case .staleVoucher = code { true } else { false } }
    /// The file is not a Paymesh store: not SQLite at all, another application's database,
    /// a damaged file, or one written by a newer Paymesh.
    public var isUnusableFile: Bool {
        switch code {
        case .notADatabase, .foreignDatabase, .schemaTooNew, .corrupt, .damagedFile, .inconsistent: true
        default: false
        }
    }
    /// The disk is full: the request was not written; it may succeed once space is freed.
    public var isDiskFull: Bool { if case .diskFull = code { true } else { false } }
    /// A failure of the file or its environment (disk full, I/O error, out of memory, a lock held
    /// too long, a damaged file) rather than of one request: the writer fails the whole batch.
    public var isEnvironmentFailure: Bool {
        switch code {
        case .diskFull, .damagedFile, .notADatabase: return true
        case .sqlite(let c, _, _):
            let primary = c & 0xff
            return [SQLITE_IOERR, SQLITE_FULL, SQLITE_NOMEM, SQLITE_BUSY, SQLITE_LOCKED, SQLITE_CANTOPEN, SQLITE_READONLY,
                    SQLITE_PROTOCOL, SQLITE_INTERRUPT, SQLITE_ABORT, SQLITE_CORRUPT, SQLITE_NOTADB].contains(primary)
        default: return false
        }
    }
    /// The writer stopped for good (see `ChannelStore.health`): no write will succeed until restart.
    public var isWriterStopped: Bool { if case .writerStopped = code { true } else { false } }
    /// The request was refused on its merits (not a database failure); the store remains usable.
    public var isRejectedRequest: Bool {
        switch code {
        case .unknownChannel, .duplicateChannel, .staleVoucher, .amountDecreased, .exceedsDeposit,
             .receiptOutOfOrder, .receiptChainBroken, .insufficientBalance, .insufficientEscrow, .balanceOverflow, .valueOutOfRange:
            true
        default: false
        }
    }
    /// A ledger request refused because a balance or an escrow would pass 2^128 − 1.
    public var isBalanceOverflow: Bool { if case .balanceOverflow = code { true } else { false } }
    /// The SQLite primary result code, when the error came from SQLite.
    public var sqliteCode: Int32? {
        switch code {
        case .sqlite(let c, _, _), .damagedFile(let c, _, _), .diskFull(_, let c, _): c & 0xff
        default: nil
        }
    }

    public var description: String {
        switch code {
        case .sqlite(let c, let m, let ctx): return "store: \(ctx): SQLite error \(c): \(m)"
        case .notADatabase(let p): return "store: \(p) is not an SQLite database (or it is encrypted or damaged)"
        case .foreignDatabase(let id):
            return "store: the database belongs to another application (application_id \(id))"
        case .schemaTooNew(let f, let s):
            return "store: the database has schema version \(f), newer than this build supports (\(s)); refusing to open"
        case .corrupt(let what): return "store: corrupt database: \(what)"
        case .damagedFile(let c, let m, let ctx): return "store: corrupt database: \(m) (SQLite error \(c), \(ctx))"
        case .diskFull(let p, let c, let ctx):
            return "store: disk full: no space left on the filesystem holding \(p) (SQLite error \(c), \(ctx))"
        case .inconsistent(let what): return "store: damaged database contents: \(what)"
        case .writerStopped(let why): return "store: failed and refuses further writes: \(why)"
        case .unknownChannel(let id): return "store: unknown channel \(id)"
        case .duplicateChannel(let id): return "store: channel \(id) already exists"
        case .staleVoucher(let id, let n, let l):
            return "store: voucher nonce \(n) on channel \(id) is not above the latest (\(l))"
        case .amountDecreased(let id, let n): return "store: voucher \(n) on channel \(id) decreases the cumulative amount"
        case .exceedsDeposit(let id, let n): return "store: voucher \(n) on channel \(id) exceeds the deposit"
        case .receiptOutOfOrder(let id, let s, let e): return "store: receipt \(s) on channel \(id), expected \(e)"
        case .receiptChainBroken(let id, let s):
            return "store: receipt \(s) on channel \(id) does not link to the previous receipt's hash"
        case .insufficientBalance(let o, let a): return "store: balance of \(o.lowercaseHex) in \(a) is too low"
        case .insufficientEscrow(let id): return "store: channel \(id) holds less in escrow than requested"
        case .balanceOverflow(let what): return "store: amount too large: \(what)"
        case .valueOutOfRange(let what): return "store: value out of range: \(what)"
        case .closed: return "store: closed"
        case .failed(let why): return "store: failed and refuses further writes: \(why)"
        }
    }
}
