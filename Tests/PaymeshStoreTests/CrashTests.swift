import Foundation
import PaymeshMessages
import PaymeshTestSupport
import Testing
@testable import PaymeshStore

/// Kill -9 at random moments: a child process pays on 16 channels with group commit and prints
/// each durable nonce; the test kills it, reopens the file and checks nothing acknowledged is lost.
/// The kill moments come from a printed seed; PAYMESH_CRASH_SEED=<n> replays them.
@Suite struct CrashTests {
    static let channels = 16

    /// `paymesh-store-crashtest` sits next to the test bundle in the build directory.
    static func childExecutable() throws -> URL {
        var candidates: [URL] = []
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
        candidates.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        candidates.append(URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent())
        // Tests/PaymeshStoreTests/CrashTests.swift → package root → .build/debug
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug"))
        for dir in candidates {
            // Also the parent: on macOS the test bundle is a directory inside the build directory.
            for base in [dir, dir.deletingLastPathComponent()] {
                let url = base.appendingPathComponent("paymesh-store-crashtest")
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
        }
        throw CrashTestFailure("paymesh-store-crashtest not found near \(candidates.map(\.path)); run swift build --build-tests")
    }

    struct CrashTestFailure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    struct Round {
        var resume: [Int: (nonce: UInt64, seq: UInt64)] = [:]
        var acks: [Int: [UInt64]] = [:]
        var receipts: [Int: [UInt64]] = [:]
        var other: [String] = []
    }

    static func runChild(_ exe: URL, db: String, killAfterMillis: Int) throws -> (Round, Process.TerminationReason, String) {
        let process = ChildProcess()
        process.executableURL = exe
        process.arguments = ["write", db, String(channels)]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // Drain stdout on another thread so the child never blocks on a full pipe.
        let collected = LockedBox([UInt8]())
        let done = DispatchSemaphore(value: 0)
        let reader = out.fileHandleForReading
        Thread {
            let data = reader.readDataToEndOfFile()
            collected.set([UInt8](data))
            done.signal()
        }.start()
        Thread.sleep(forTimeInterval: Double(killAfterMillis) / 1000)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        done.wait()
        let stderr = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        var round = Round()
        for line in String(decoding: collected.get(), as: UTF8.self).split(separator: "\n") {
            let f = line.split(separator: " ")
            switch (f.first, f.count) {
            case ("resume", 4): round.resume[Int(f[1])!] = (UInt64(f[2])!, UInt64(f[3])!)
            case ("ack", 3): round.acks[Int(f[1])!, default: []].append(UInt64(f[2])!)
            case ("receipt", 3): round.receipts[Int(f[1])!, default: []].append(UInt64(f[2])!)
            default: round.other.append(String(line))
            }
        }
        return (round, process.terminationReason, stderr)
    }

    @Test(.timeLimit(.minutes(3)))
    func killNineNeverLosesAnAcknowledgedVoucher() async throws {
        let exe = try Self.childExecutable()
        var rng = SplitMix64(seed: TestSeed.resolve("killNineNeverLosesAnAcknowledgedVoucher", variable: "PAYMESH_CRASH_SEED"))
        let dir = TemporaryDirectory()
        let db = dir.file("crash.sqlite")
        var ackedMax: [Int: UInt64] = [:]        // highest durable nonce the child reported, per channel
        var receiptMax: [Int: UInt64] = [:]
        var lastNonceUsed: [Int: UInt64] = [:]   // to prove nonces are never reused across restarts
        var totalAcks = 0
        let rounds = 6
        var killTimes: [Int] = []
        for roundIndex in 0..<rounds {
            // The first round gets longer: the child also creates its channels.
            let killAfter = roundIndex == 0 ? 600 : Int.random(in: 50...400, using: &rng)
            killTimes.append(killAfter)
            let (round, reason, stderr) = try Self.runChild(exe, db: db, killAfterMillis: killAfter)
            #expect(reason == .uncaughtSignal, "child exited by itself: \(stderr)")
            #expect(round.other.isEmpty, "unexpected output: \(round.other.prefix(3))")
            #expect(stderr.isEmpty, "child stderr: \(stderr)")
            // On restart the child resumed from a stored latest nonce ≥ everything acknowledged before.
            if !round.resume.isEmpty {
                // A kill may land while the child is still printing its resume lines (its start
                // checks take a few ms); once it acknowledged anything, all of them were printed.
                if !round.acks.isEmpty { #expect(round.resume.count == Self.channels) }
                for (channel, resume) in round.resume {
                    #expect(resume.nonce >= ackedMax[channel, default: 0], "channel \(channel) lost a durable voucher")
                    #expect(resume.seq >= receiptMax[channel, default: 0], "channel \(channel) lost a durable receipt")
                }
            }
            for (channel, acks) in round.acks {
                // Each acknowledged nonce is new: above every nonce used before on this channel.
                var previous = lastNonceUsed[channel, default: 0]
                for nonce in acks {
                    #expect(nonce > previous, "channel \(channel) reused nonce \(nonce)")
                    previous = nonce
                }
                if let first = acks.first, let resume = round.resume[channel] {
                    #expect(first == resume.nonce + 1)
                }
                lastNonceUsed[channel] = previous
                ackedMax[channel] = max(ackedMax[channel, default: 0], acks.last ?? 0)
                totalAcks += acks.count
            }
            for (channel, seqs) in round.receipts { receiptMax[channel] = max(receiptMax[channel, default: 0], seqs.max() ?? 0) }
        }
        print("crash test: \(rounds) SIGKILLs after \(killTimes) ms, \(totalAcks) acknowledged vouchers, " +
              "\(receiptMax.values.reduce(0, +)) acknowledged receipts")
        #expect(totalAcks > 0)

        // Reopen after the last kill: recovery from the WAL, then check everything.
        let store = try ChannelStore(path: db)
        #expect(try store.integrityCheck() == ["ok"])
        let loaded = try store.loadChannels()
        #expect(loaded.count == Self.channels)
        for (i, channel) in loaded.enumerated() {
            #expect(channel.id == Fixtures.channelID(i))
            let latest = channel.latestVoucher?.nonce ?? 0
            #expect(latest >= ackedMax[i, default: 0], "channel \(i): latest \(latest) < acknowledged \(ackedMax[i, default: 0])")
            #expect(try store.highestHistoryNonce(channel: channel.id) == latest)
            if let voucher = channel.latestVoucher {
                #expect(voucher == Fixtures.voucher(channel: i, nonce: latest, timestampMillis: Int64(latest)))
            }
            // History is exactly 1…latest, each row intact.
            var expected: UInt64 = 1
            var after: UInt64 = 0
            while true {
                let page = try store.voucherHistory(channel: channel.id, afterNonce: after, limit: 5_000)
                if page.isEmpty { break }
                for v in page {
                    #expect(v == Fixtures.voucher(channel: i, nonce: expected, timestampMillis: Int64(expected)))
                    expected += 1
                }
                after = page.last!.nonce
            }
            #expect(expected - 1 == latest)
            // Receipts: every acknowledged one present, chain intact.
            let receipts = try store.receipts(channel: channel.id)
            #expect(UInt64(receipts.count) >= receiptMax[i, default: 0])
            #expect(receipts == (0..<receipts.count).map { Fixtures.receipt(channel: i, seq: UInt64($0 + 1)) })
        }
        await store.close()
    }
}

/// A tiny lock-protected box for the reader thread's result.
final class LockedBox<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value
    init(_ value: Value) { self.value = value }
    func set(_ v: Value) { lock.lock(); value = v; lock.unlock() }
    func get() -> Value { lock.lock(); defer { lock.unlock() }; return value }
}
