import Foundation
import PaymeshChannels
import PaymeshConsole
@testable import PaymeshNode
import PaymeshTestSupport
import Testing

/// Issue 7 items 10–13 (storage): a node reports only what is durable and recovers from a full
/// disk without a restart; a damaged or missing store refuses the start; one node per data
/// directory; owner-only files.
@Suite(.serialized) struct StoreHardeningTests {
    /// Runs SQL on a store file with Python's sqlite3 (the node under test is stopped, or the
    /// statement only reads). Returns the rows as text, one line each.
    @discardableResult
    static func sql(_ path: String, _ statement: String, readOnly: Bool = false) throws -> [String] {
        let p = ChildProcess()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        let uri = readOnly ? "file:\(path)?mode=ro" : "file:\(path)"
        p.arguments = ["-c", """
            import sqlite3, sys
            db = sqlite3.connect(sys.argv[1], uri=True)
            rows = db.execute(sys.argv[2]).fetchall()
            db.commit()
            for r in rows: print("|".join(str(c) for c in r))
            """, uri, statement]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ChildFailed(status: p.terminationStatus) }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    static func startError(_ directory: String) async -> String? {
        do {
            let node = try await RunningNode.start(directory: directory)
            await node.stop()
            return nil
        } catch {
            return "\(error)"
        }
    }

    /// A payer and a payee with `payments` vouchers of 3 units acknowledged; both stopped.
    static func stoppedPair(payments: Int) async throws -> (payer: String, payee: String, channel: JSONValue) {
        let (payer, payee, channel) = try await PaymentsFlowTests.openChannel()
        let paid = try await payer.call("pay", ["channel": channel, "amount": "3", "count": .int(Int64(payments))])
        #expect(paid["ackedNonce"] == .int(Int64(payments)))
        await payer.stop()
        await payee.stop()
        return (payer.directory, payee.directory, channel)
    }

    // MARK: Issue 8: the guarded write on the hot path

    /// The payee's voucher writes go through the store's guard: when the stored latest voucher is
    /// above what the engine writes next (standing in for an engine bug), the write is refused, the
    /// payer gets 1502 and the stored voucher does not go backwards. The unguarded bulk write the
    /// node used before accepted it and lowered the stored amount.
    @Test func theHotPathWriteIsGuardedByTheStore() async throws {
        try await withTimeout(90) {
            let (payer, payee, channel) = try await PaymentsFlowTests.openChannel()
            defer { removeDirectory(payer.directory); removeDirectory(payee.directory) }
            let paid = try await payer.call("pay", ["channel": channel, "amount": "3", "count": 5])
            #expect(paid["ackedNonce"] == 5)
            let store = payee.directory + "/channels.sqlite"
            // Raise the stored latest amount under the running payee (nonce 5 kept): 1000 units.
            let raised = String(repeating: "0", count: 28) + "03E8"
            try Self.sql(store, "UPDATE channels SET latest_amount = x'\(raised)'")
            let r = try await payer.callResult("pay", ["channel": channel, "amount": "3", "count": 1, "timeout_ms": 20_000])
            var code: JSONValue?
            if case .failure(let e) = r { code = .int(Int64(e.code)) } else if case .success(let v) = r { code = v["error"]?["code"] }
            #expect(code == 1502, "\(r)")
            let row = try Self.sql(store, "SELECT latest_nonce, hex(latest_amount) FROM channels", readOnly: true)
            #expect(row == ["5|" + raised], "the stored voucher went backwards: \(row)")
            #expect(try Self.sql(store, "SELECT max(nonce) FROM voucher_history", readOnly: true) == ["5"])
            await payer.stop()
            await payee.stop()
        }
    }

    /// Issue 8: the row's state is the one source of truth; a snapshot written before issue 8 that
    /// names another state is a contradiction the node refuses to start on.
    @Test func aSnapshotStateThatDisagreesWithTheRowIsRefusedAtStart() async throws {
        try await withTimeout(90) {
            let (payerDirectory, payeeDirectory, _) = try await Self.stoppedPair(payments: 2)
            defer { removeDirectory(payerDirectory); removeDirectory(payeeDirectory) }
            let store = payeeDirectory + "/channels.sqlite"
            #expect(try Self.sql(store, "SELECT state FROM channels", readOnly: true) == ["open"])
            let legacy = "UPDATE metadata SET value = CAST(json_set(CAST(value AS TEXT), '$.state', '%@') AS BLOB) WHERE key LIKE 'channel/%'"
            // An old snapshot that agrees (ACTIVE was stored as OPEN) starts.
            try Self.sql(store, legacy.replacingOccurrences(of: "%@", with: "OPEN"))
            #expect(await Self.startError(payeeDirectory) == nil)
            try Self.sql(store, legacy.replacingOccurrences(of: "%@", with: "CLOSING"))
            let error = await Self.startError(payeeDirectory)
            #expect(error?.contains("disagrees with its snapshot's CLOSING") == true, "\(String(describing: error))")
        }
    }

    /// DISPUTED is stored as `disputed` (it was `closed`), and every state maps back to itself.
    @Test func everyChannelStateHasItsOwnStoredState() {
        #expect(ChannelPersistence.status(.disputed) == .disputed)
        for state in ChannelState.allCases {
            let back = ChannelPersistence.state(ChannelPersistence.status(state), hasVoucher: state == .active)
            #expect(back == state, "\(state)")
        }
        #expect(Set(ChannelState.allCases.map(ChannelPersistence.status)).count == 5)
    }

    // MARK: Item 12

    @Test func aSecondNodeOnTheSameDataDirectoryIsRefused() async throws {
        try await withTimeout(60) {
            let first = try await RunningNode.start()
            defer { removeDirectory(first.directory) }
            // What used to let a second process in: the console socket renamed away.
            try FileManager.default.moveItem(atPath: first.socket, toPath: first.directory + "/moved.sock")
            let error = await Self.startError(first.directory)
            #expect(error?.contains("another node is already using the data directory") == true, "\(String(describing: error))")
            await first.stop()
            // Released with the node: the directory can be used again.
            let second = try await RunningNode.start(directory: first.directory)
            await second.stop()
        }
    }

    // MARK: Item 13

    @Test func dataDirectoryIsTightenedAndStoreFilesAreOwnerOnly() async throws {
        try await withTimeout(60) {
            let directory = temporaryDirectory() // created 0755
            defer { removeDirectory(directory) }
            let node = try await RunningNode.start(directory: directory)
            let mode = { (path: String) in (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1 }
            #expect(mode(directory) == 0o700)
            for suffix in ["", "-wal", "-shm"] {
                let file = directory + "/channels.sqlite" + suffix
                #expect(mode(file) == 0o600, "\(file): \(String(mode(file), radix: 8))")
            }
            await node.stop()
        }
    }

    // MARK: Item 11

    @Test func anEmptyOrMissingStoreWhereChannelsExistedIsRefused() async throws {
        try await withTimeout(120) {
            let (payer, payee, _) = try await Self.stoppedPair(payments: 20)
            defer { removeDirectory(payer); removeDirectory(payee) }
            #expect(FileManager.default.fileExists(atPath: payee + "/channels.marker"))
            // 0 bytes (and no WAL): used to start as an empty node.
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: payee + "/channels.sqlite" + suffix) }
            #expect(truncate(payee + "/channels.sqlite", 0) == 0)
            let empty = await Self.startError(payee)
            #expect(empty?.contains("is missing its channels: it is empty (0 bytes)") == true, "\(String(describing: empty))")
            try FileManager.default.removeItem(atPath: payee + "/channels.sqlite")
            let missing = await Self.startError(payee)
            #expect(missing?.contains("is missing its channels: it does not exist") == true, "\(String(describing: missing))")
            print("missing-store start: \(String(describing: missing))")
            #expect(!FileManager.default.fileExists(atPath: payee + "/channels.sqlite"))
            // A store with its channel rows gone.
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: payer + "/channels.sqlite" + suffix) }
            _ = await Self.startError(payer) // refused: missing
            try FileManager.default.removeItem(atPath: payer + "/channels.marker")
            #expect(await Self.startError(payer) == nil) // the operator said they are gone: a fresh store
        }
    }

    @Test func aLatestVoucherThatIsNotThePayersIsRefusedAtStart() async throws {
        try await withTimeout(120) {
            let (payer, payee, _) = try await Self.stoppedPair(payments: 20)
            defer { removeDirectory(payer); removeDirectory(payee) }
            let store = payee + "/channels.sqlite"
            // One bit of the latest amount (60 = 0x3C → 0x3D), in the row and in its history copy.
            try Self.sql(store, "UPDATE channels SET latest_amount = x'0000000000000000000000000000003D'")
            try Self.sql(store, "UPDATE voucher_history SET amount = x'0000000000000000000000000000003D' WHERE nonce = 20")
            let error = await Self.startError(payee)
            #expect(error?.contains("is not signed by the payer") == true, "\(String(describing: error))")
            // Only the row changed: the store's own check names the mismatch.
            try Self.sql(store, "UPDATE voucher_history SET amount = x'0000000000000000000000000000003C' WHERE nonce = 20")
            let row = await Self.startError(payee)
            #expect(row?.contains("differs from its history row") == true, "\(String(describing: row))")
            // A lowered latest nonce.
            try Self.sql(store, "UPDATE channels SET latest_amount = x'0000000000000000000000000000003C'")
            try Self.sql(store, "UPDATE channels SET latest_nonce = 15")
            let lowered = await Self.startError(payee)
            #expect(lowered?.contains("latest nonce 15 but the history's highest is 20") == true, "\(String(describing: lowered))")
        }
    }

    // MARK: Item 10

    /// The payee's data directory on a small tmpfs that runs full mid-stream: it refuses what it
    /// cannot store (1502), `channel.get` equals the store at every point, and once space is freed
    /// it acknowledges again — the same process, no restart.
    @Test(.enabled(if: SmallDisk.isAvailable), .timeLimit(.minutes(4)))
    func aFullDiskLeavesTheChannelAsStoredAndTheNodeRecovers() async throws {
        try await withTimeout(220) {
            let disk = try SmallDisk(bytes: 3 << 20)
            let payeeDirectory = disk.path + "/payee"
            let payee = try await RunningNode.start(directory: payeeDirectory)
            let payer = try await RunningNode.start(peers: [payee.started.listen])
            defer { removeDirectory(payer.directory) }
            let payeeID = payee.started.id.description
            #expect(try await eventually { try await payer.connectedPeers() == [payeeID] })
            _ = try await payer.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000000000"])
            let open = try await payer.call("channel.open", ["asset": "USDC", "decimals": 6, "peer": .string(payeeID), "deposit": "100000000"])
            let channel = try #require(open["channel"])
            _ = try await payer.call("pay", ["channel": channel, "amount": "3", "count": 50])

            let store = payeeDirectory + "/channels.sqlite"
            func stored() throws -> (nonce: Int64, paid: String) {
                let row = try Self.sql(store, "SELECT latest_nonce, hex(latest_amount) FROM channels", readOnly: true)
                let parts = try #require(row.first).split(separator: "|")
                return (Int64(parts[0])!, String(UInt128(parts[1], radix: 16)!))
            }
            disk.fill()
            var refused: JSONValue?
            for _ in 0..<200 where refused == nil {
                let r = try await payer.callResult("pay", ["channel": channel, "amount": "3", "count": 200, "timeout_ms": 20_000])
                if case .failure(let e) = r { refused = .int(Int64(e.code)) }
                else if case .success(let v) = r, let code = v["error"]?["code"] { refused = code }
            }
            #expect(refused == 1502, "\(String(describing: refused))")
            let view = try await payee.call("channel.get", ["channel": channel])
            let durable = try stored()
            #expect(view["nonce"] == .int(durable.nonce) && view["paid"] == .string(durable.paid), "node \(view), disk \(durable)")
            let info = try await payee.call("getinfo")
            #expect(info["store"]?["status"] == "degraded", "\(String(describing: info["store"]))")

            disk.free()
            let again = try await payer.call("pay", ["channel": channel, "amount": "3", "count": 20])
            let last = try #require(again["channels"]?.arrayValue?.first?["nonce"])
            #expect(again["ackedNonce"] == last, "\(again)")
            let after = try await payee.call("channel.get", ["channel": channel])
            let disk2 = try stored()
            #expect(after["nonce"] == last && after["nonce"] == .int(disk2.nonce) && after["paid"] == .string(disk2.paid))
            #expect(try await payee.call("getinfo")["store"]?["status"] == "ok")
            await payer.stop()
            await payee.stop()
        }
    }
}

/// A child process exited with a non-zero status.
struct ChildFailed: Error { let status: Int32 }
