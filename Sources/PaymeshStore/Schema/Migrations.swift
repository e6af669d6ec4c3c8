/// The ordered schema migrations (Specs/storage.md, "Migrations"). Version N is reached by running
/// migrations 1…N in order, each in its own transaction together with `PRAGMA user_version = N`.
/// A migration is never edited once released: changes are new migrations appended at the end.
enum Migrations {
    struct Migration: Sendable {
        let version: Int
        let sql: String
        /// Runs after `sql` in the same transaction: data the new tables derive from the old ones.
        var backfill: (@Sendable (SQLiteConnection) throws(StoreError) -> Void)? = nil
    }

    static let all: [Migration] = [
        Migration(version: 1, sql: v1),
        Migration(version: 2, sql: v2),
        Migration(version: 3, sql: v3, backfill: { db throws(StoreError) in try LedgerQueries.backfill(db) }),
        Migration(version: 4, sql: v4),
        Migration(version: 5, sql: v5),
        Migration(version: 6, sql: v6),
        Migration(version: 7, sql: v7),
        Migration(version: 8, sql: v8),
    ]

    static var current: Int { all.last!.version }

    /// Channels with their latest voucher, the voucher history log, and metadata.
    private static let v1 = """
        CREATE TABLE channels (
            id                 BLOB    NOT NULL PRIMARY KEY CHECK (length(id) = 32),
            role               TEXT    NOT NULL CHECK (role IN ('payer', 'payee')),
            local_address      BLOB    NOT NULL CHECK (length(local_address) = 20),
            remote_address     BLOB    NOT NULL CHECK (length(remote_address) = 20),
            asset_id           TEXT    NOT NULL,
            asset_decimals     INTEGER NOT NULL CHECK (asset_decimals BETWEEN 0 AND 36),
            deposit            BLOB    NOT NULL CHECK (length(deposit) = 16),
            challenge_period   INTEGER NOT NULL CHECK (challenge_period >= 0),
            settlement_backend TEXT    NOT NULL,
            chain_id           INTEGER NOT NULL CHECK (chain_id >= 0),
            verifying_contract BLOB    NOT NULL CHECK (length(verifying_contract) = 20),
            state              TEXT    NOT NULL,
            open_signature     BLOB    CHECK (open_signature IS NULL OR length(open_signature) = 65),
            opened_at          INTEGER NOT NULL,
            latest_nonce       INTEGER NOT NULL DEFAULT 0 CHECK (latest_nonce >= 0),
            latest_amount      BLOB    NOT NULL DEFAULT x'00000000000000000000000000000000' CHECK (length(latest_amount) = 16),
            latest_signature   BLOB    CHECK (latest_signature IS NULL OR length(latest_signature) = 65),
            latest_task_id     TEXT,
            latest_ts          INTEGER,
            locked_amount      BLOB    NOT NULL DEFAULT x'00000000000000000000000000000000' CHECK (length(locked_amount) = 16),
            CHECK ((latest_nonce = 0) = (latest_signature IS NULL))
        ) WITHOUT ROWID;

        CREATE TABLE voucher_history (
            channel   BLOB    NOT NULL REFERENCES channels(id),
            nonce     INTEGER NOT NULL CHECK (nonce > 0),
            amount    BLOB    NOT NULL CHECK (length(amount) = 16),
            task_id   TEXT,
            signature BLOB    NOT NULL CHECK (length(signature) = 65),
            ts        INTEGER NOT NULL,
            PRIMARY KEY (channel, nonce)
        ) WITHOUT ROWID;

        CREATE TABLE metadata (
            key   TEXT NOT NULL PRIMARY KEY,
            value BLOB NOT NULL
        ) WITHOUT ROWID;
        """

    /// The local ledger, hash-chained receipts, and how a channel closed.
    private static let v2 = """
        CREATE TABLE ledger_entries (
            id             INTEGER PRIMARY KEY,
            owner          BLOB    NOT NULL CHECK (length(owner) = 20),
            asset_id       TEXT    NOT NULL,
            asset_decimals INTEGER NOT NULL CHECK (asset_decimals BETWEEN 0 AND 36),
            direction      INTEGER NOT NULL CHECK (direction IN (1, -1)),
            amount         BLOB    NOT NULL CHECK (length(amount) = 16),
            reason         TEXT    NOT NULL,
            channel        BLOB    REFERENCES channels(id),
            ts             INTEGER NOT NULL
        );
        CREATE INDEX ledger_by_account ON ledger_entries (owner, asset_id);
        CREATE INDEX ledger_by_channel ON ledger_entries (channel) WHERE channel IS NOT NULL;

        CREATE TABLE receipts (
            channel   BLOB    NOT NULL REFERENCES channels(id),
            seq       INTEGER NOT NULL CHECK (seq > 0),
            hash      BLOB    NOT NULL CHECK (length(hash) = 32),
            prev_hash BLOB    CHECK (prev_hash IS NULL OR length(prev_hash) = 32),
            json      TEXT    NOT NULL,
            signature BLOB    NOT NULL CHECK (length(signature) = 65),
            PRIMARY KEY (channel, seq)
        ) WITHOUT ROWID;

        ALTER TABLE channels ADD COLUMN close_reason    TEXT;
        ALTER TABLE channels ADD COLUMN closed_at       INTEGER;
        ALTER TABLE channels ADD COLUMN close_nonce     INTEGER;
        ALTER TABLE channels ADD COLUMN close_amount    BLOB CHECK (close_amount IS NULL OR length(close_amount) = 16);
        ALTER TABLE channels ADD COLUMN close_reference TEXT;
        """

    /// Balances and escrows kept incrementally (one row each, updated with every ledger request)
    /// instead of summed from `ledger_entries` on every write; filled from the entries once here.
    private static let v3 = """
        CREATE TABLE ledger_balances (
            owner    BLOB NOT NULL CHECK (length(owner) = 20),
            asset_id TEXT NOT NULL,
            amount   BLOB NOT NULL CHECK (length(amount) = 16),
            PRIMARY KEY (owner, asset_id)
        ) WITHOUT ROWID;

        CREATE TABLE ledger_escrows (
            channel BLOB NOT NULL PRIMARY KEY REFERENCES channels(id),
            amount  BLOB NOT NULL CHECK (length(amount) = 16)
        ) WITHOUT ROWID;
        """

    /// DISPUTED stored as such: before v4 the node wrote a DISPUTED channel as `closed` (with
    /// `close_reason` 'disputed' once it had a close record, and `"state":"DISPUTED"` in its
    /// `channel/<id hex>` metadata snapshot). Either mark moves the row to `disputed`; any other
    /// `closed` row is left as it is.
    private static let v4 = """
        UPDATE channels SET state = 'disputed'
        WHERE state = 'closed' AND (close_reason = 'disputed' OR EXISTS (
            SELECT 1 FROM metadata m
            WHERE m.key = 'channel/' || lower(hex(channels.id))
              AND CASE WHEN json_valid(CAST(m.value AS TEXT))
                       THEN json_extract(CAST(m.value AS TEXT), '$.state') END = 'DISPUTED'));
        """

    /// Voucher history in insertion order. v1 clustered `voucher_history` by (channel BLOB(32),
    /// nonce), so one group commit spread over N channels dirtied N B-tree leaves. From v5 each
    /// channel has a small integer key (`channel_keys`, given by a trigger on every new channel), history rows are appended to a rowid table
    /// (`seq`), and the UNIQUE index `voucher_history_by_channel (channel_key, nonce)` serves the
    /// per-channel queries. Every row is copied (a row whose channel is unknown fails the
    /// NOT NULL check and the migration), with the v1 checks kept.
    private static let v5 = """
        CREATE TABLE channel_keys (
            key     INTEGER NOT NULL PRIMARY KEY,
            channel BLOB    NOT NULL UNIQUE REFERENCES channels(id)
        );
        INSERT INTO channel_keys (channel) SELECT id FROM channels ORDER BY opened_at, id;
        CREATE TRIGGER channels_key_on_insert AFTER INSERT ON channels
        BEGIN
            INSERT INTO channel_keys (channel) VALUES (NEW.id);
        END;

        CREATE TABLE voucher_history_v5 (
            seq         INTEGER NOT NULL PRIMARY KEY,
            channel_key INTEGER NOT NULL REFERENCES channel_keys(key),
            nonce       INTEGER NOT NULL CHECK (nonce > 0),
            amount      BLOB    NOT NULL CHECK (length(amount) = 16),
            task_id     TEXT,
            signature   BLOB    NOT NULL CHECK (length(signature) = 65),
            ts          INTEGER NOT NULL
        );
        INSERT INTO voucher_history_v5 (channel_key, nonce, amount, task_id, signature, ts)
            SELECT k.key, h.nonce, h.amount, h.task_id, h.signature, h.ts
            FROM voucher_history h LEFT JOIN channel_keys k ON k.channel = h.channel
            ORDER BY h.channel, h.nonce; -- the old primary key's order: no sort, bounded memory
        DROP TABLE voucher_history;
        ALTER TABLE voucher_history_v5 RENAME TO voucher_history;
        CREATE UNIQUE INDEX voucher_history_by_channel ON voucher_history (channel_key, nonce);
        """

    /// HTLCs (issue 10): per channel the voucher nonce, settled amount and latest conditional
    /// voucher (`htlc_channels`), and its HTLCs in signing order (`htlcs`).
    private static let v6 = """
        CREATE TABLE htlc_channels (
            channel           BLOB    NOT NULL PRIMARY KEY REFERENCES channels(id),
            nonce             INTEGER NOT NULL CHECK (nonce >= 0),
            settled           BLOB    NOT NULL CHECK (length(settled) = 16),
            voucher_amount    BLOB    CHECK (voucher_amount IS NULL OR length(voucher_amount) = 16),
            voucher_ts        INTEGER CHECK (voucher_ts IS NULL OR voucher_ts >= 0),
            voucher_signature BLOB    CHECK (voucher_signature IS NULL OR length(voucher_signature) = 65),
            CHECK ((voucher_amount IS NULL) = (voucher_signature IS NULL) AND (voucher_amount IS NULL) = (voucher_ts IS NULL))
        ) WITHOUT ROWID;

        CREATE TABLE htlcs (
            channel      BLOB    NOT NULL REFERENCES htlc_channels(channel),
            position     INTEGER NOT NULL CHECK (position >= 0),
            htlc_id      BLOB    NOT NULL CHECK (length(htlc_id) = 16),
            side         TEXT    NOT NULL CHECK (side IN ('offered', 'received')),
            state        TEXT    NOT NULL CHECK (state IN ('pending', 'fulfilled', 'cancelled')),
            payment_hash BLOB    NOT NULL CHECK (length(payment_hash) = 32),
            amount       BLOB    NOT NULL CHECK (length(amount) = 16),
            expiry       INTEGER NOT NULL CHECK (expiry >= 0),
            preimage     BLOB    CHECK (preimage IS NULL OR length(preimage) = 32),
            reason       INTEGER CHECK (reason IS NULL OR reason BETWEEN 1000 AND 1999),
            link_channel BLOB    CHECK (link_channel IS NULL OR length(link_channel) = 32),
            link_htlc    BLOB    CHECK (link_htlc IS NULL OR length(link_htlc) = 16),
            shared_secret BLOB   CHECK (shared_secret IS NULL OR length(shared_secret) = 32),
            PRIMARY KEY (channel, htlc_id),
            UNIQUE (channel, position),
            CHECK ((state = 'fulfilled') = (preimage IS NOT NULL)),
            CHECK ((link_channel IS NULL) = (link_htlc IS NULL)),
            CHECK (shared_secret IS NULL OR (side = 'received' AND state = 'pending'))
        ) WITHOUT ROWID;

        CREATE TABLE htlc_used_ids (
            channel BLOB NOT NULL REFERENCES htlc_channels(channel),
            htlc_id BLOB NOT NULL CHECK (length(htlc_id) = 16),
            PRIMARY KEY (channel, htlc_id)
        ) WITHOUT ROWID;
        """

    /// Invoices and the payment journal (issue 10, Specs/storage.md "Invoices and payments"): the
    /// payee's invoices with their preimages, and the payer's journal entries, one row per payment id.
    private static let v7 = """
        CREATE TABLE invoices (
            payment_hash   BLOB    NOT NULL PRIMARY KEY CHECK (length(payment_hash) = 32),
            preimage       BLOB    NOT NULL CHECK (length(preimage) = 32),
            invoice        TEXT    NOT NULL,
            amount         BLOB    CHECK (amount IS NULL OR length(amount) = 16),
            asset_id       TEXT    NOT NULL,
            asset_decimals INTEGER NOT NULL CHECK (asset_decimals BETWEEN 0 AND 36),
            memo           TEXT    NOT NULL,
            created        INTEGER NOT NULL CHECK (created >= 0),
            expires_at     INTEGER NOT NULL CHECK (expires_at >= created),
            paid_amount    BLOB    CHECK (paid_amount IS NULL OR length(paid_amount) = 16),
            paid_at        INTEGER CHECK (paid_at IS NULL OR paid_at >= 0),
            paid_channel   BLOB    CHECK (paid_channel IS NULL OR length(paid_channel) = 32),
            CHECK ((paid_amount IS NULL) = (paid_at IS NULL) AND (paid_at IS NULL) = (paid_channel IS NULL))
        ) WITHOUT ROWID;

        CREATE TABLE payments (
            id           BLOB    NOT NULL PRIMARY KEY CHECK (length(id) BETWEEN 1 AND 64),
            payment_hash BLOB    NOT NULL CHECK (length(payment_hash) = 32),
            created      INTEGER NOT NULL CHECK (created >= 0),
            record       BLOB    NOT NULL
        ) WITHOUT ROWID;
        """

    /// What became of the HTLCs this node offered as a payment's origin (issue 10, Specs/storage.md
    /// "Route outcomes"): written with the HTLC state that drops them, removed once the journal has them.
    private static let v8 = """
        CREATE TABLE route_outcomes (
            payment_hash BLOB    NOT NULL PRIMARY KEY CHECK (length(payment_hash) = 32),
            preimage     BLOB    CHECK (preimage IS NULL OR length(preimage) = 32),
            code         INTEGER CHECK (code IS NULL OR code BETWEEN 1000 AND 1999),
            hop_index    INTEGER CHECK (hop_index IS NULL OR hop_index BETWEEN 0 AND 255),
            node         BLOB    CHECK (node IS NULL OR length(node) = 20),
            at           INTEGER NOT NULL CHECK (at >= 0),
            CHECK ((preimage IS NULL) <> (code IS NULL)),
            CHECK (hop_index IS NULL OR code IS NOT NULL)
        ) WITHOUT ROWID;
        """
}
