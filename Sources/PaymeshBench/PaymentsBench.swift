import Foundation
import Glibc
import PaymeshConsole
import PaymeshCrypto
import PaymeshMessages
import PaymeshNode
import PaymeshStore
import Synchronization

/// `paymesh-bench payments`: two real `paymesh start` processes on loopback with durable state
/// (Specs/storage.md; FULL sync unless `--sync normal`), driven through their consoles.
/// Prints figures; asserts nothing about time.
struct PaymentsBench {
    let seconds: Double
    let sync: String
    let channels: Int
    let historyRows: Int
    let memoryChannels: Int
    /// `paced`: only the disk floor and the ack latency at 1,000/s (for A/B runs of a setting).
    var only: String? = nil

    struct Failure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    func run() async throws {
        let exe = try Self.paymeshExecutable()
        let (signRate, verifyRate) = try Self.voucherCrypto()
        // Payer signs on one core, payee verifies on the other: the slower side bounds the pair.
        let bound = min(signRate, verifyRate)
        printRow("voucher sign / verify, one core, now", "\(formatRate(signRate)) / \(formatRate(verifyRate)) per s (bound \(formatRate(bound))/s)")
        print("payments: two paymesh processes on 127.0.0.1, store synchronous=\(sync.uppercased()) in \(ProcessInfo.processInfo.environment["PAYMESH_BENCH_DIR"] ?? "/tmp"), \(ProcessInfo.processInfo.activeProcessorCount) cores")
        // The payee accepts every channel the bench opens (above the default per-peer limit of 64).
        let payee = BenchNode(exe: exe, sync: sync, environment: ["PAYMESH_MAX_CHANNELS_PER_PEER": "\(channels + memoryChannels + 1)"])
        let payer = BenchNode(exe: exe, sync: sync, peers: [payee.port])
        defer { payer.kill(); payee.kill(); try? FileManager.default.removeItem(atPath: payer.directory); try? FileManager.default.removeItem(atPath: payee.directory) }
        let payeeID = try await payee.start()
        _ = try await payer.start()
        try await payer.waitConnected()
        _ = try await payer.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000000000000000000"])

        // One channel, as fast as possible.
        let first = try await payer.open(payeeID, deposit: "100000000000000")
        _ = try await payer.call("pay", ["channel": first, "amount": "1", "count": 2_000]) // warm-up
        if only != "paced" {
            let n1 = max(10_000, Int(25_000 * seconds))
            let one = try await payer.call("pay", ["channel": first, "amount": "1", "count": .int(Int64(n1)), "timeout_ms": 600_000])
            let rate1 = one["paymentsPerSecond"]?.doubleValue ?? 0
            printRow("1 channel: payments/s (\(n1), acked)", "\(formatRate(rate1)) = \(String(format: "%.2f", rate1 / bound)) × crypto bound", "≥ 20,000")
            printRow("  ack latency p50 / p99 (flat out)", "\(ms(one["latencyMs"]?["p50"])) / \(ms(one["latencyMs"]?["p99"])) ms")
        }

        // Ack latency at a steady 1,000 payments/s, and the disk's floor for it measured just before.
        let disk = try DiskBench(directory: payer.directory, samples: 200).measure()
        printRow("disk: fdatasync 4 KiB, one / two in series", "p50 \(String(format: "%.2f", disk.one.p50)) / \(String(format: "%.2f", disk.twoInSeries.p50)) ms, p99 \(String(format: "%.2f", disk.one.p99)) / \(String(format: "%.2f", disk.twoInSeries.p99)) ms")
        let rested = try DiskBench(directory: payer.directory, samples: 200).measure(idleMicros: 1_000)
        printRow("  the same after 1 ms idle (as when paced)", "p50 \(String(format: "%.2f", rested.one.p50)) / \(String(format: "%.2f", rested.twoInSeries.p50)) ms, p99 \(String(format: "%.2f", rested.one.p99)) / \(String(format: "%.2f", rested.twoInSeries.p99)) ms")
        let paced = try await payer.call("pay", ["channel": first, "amount": "1", "count": .int(Int64(max(2_000, Int(3_000 * seconds)))), "rate": 1_000])
        printRow("ack latency at 1,000/s: p50 / p99 / max", "\(ms(paced["latencyMs"]?["p50"])) / \(ms(paced["latencyMs"]?["p99"])) / \(ms(paced["latencyMs"]?["max"])) ms",
                 "≤ 1 / ≤ 5 ms")
        if only == "paced" { return }

        // Many channels: payments/s round-robin over them.
        let openStart = Date()
        let ids = try await Self.openMany(payer, payeeID, channels)
        let openSeconds = Date().timeIntervalSince(openStart)
        printRow("channels opened (8 at a time)", "\(channels) in \(String(format: "%.2f", openSeconds)) s")
        let nMany = max(10_000, Int(25_000 * seconds))
        let many = try await payer.call("pay", ["channels": .array(ids), "amount": "1", "count": .int(Int64(nMany)), "timeout_ms": 600_000])
        let rateMany = many["paymentsPerSecond"]?.doubleValue ?? 0
        printRow("\(channels) channels: payments/s (\(nMany), acked)", "\(formatRate(rateMany)) = \(String(format: "%.2f", rateMany / bound)) × crypto bound", "≥ 20,000")
        if let complete = many["complete"]?.boolValue, !complete { print("  (incomplete: \(many["error"]?.description ?? ""))") }

        // Memory per open channel: RSS delta over `memoryChannels` more channels, each with a voucher.
        let rssPayer0 = payer.residentBytes(), rssPayee0 = payee.residentBytes()
        let more = try await Self.openMany(payer, payeeID, memoryChannels)
        _ = try await payer.call("pay", ["channels": .array(more), "amount": "1", "count": .int(Int64(memoryChannels)), "timeout_ms": 600_000])
        let rssPayer1 = payer.residentBytes(), rssPayee1 = payee.residentBytes()
        printRow("memory per open channel: payer / payee", "\(kib(rssPayer1 - rssPayer0, memoryChannels)) / \(kib(rssPayee1 - rssPayee0, memoryChannels)) KiB (RSS delta over \(memoryChannels) channels)")

        // Restart with a large history: stop the payee, bulk-import history rows, time start → ready.
        payee.stop()
        let channelID = try ChannelID(hex: try first.stringValueOrThrow())
        let payerKey = try IdentityStore(directory: payer.directory).load()
        let imported = try await Self.importHistory(path: payee.directory + "/channels.sqlite", channel: channelID, rows: historyRows,
                                                    payerKey: payerKey)
        let size = (try? FileManager.default.attributesOfItem(atPath: payee.directory + "/channels.sqlite")[.size] as? Int) ?? 0
        var times: [Double] = []
        for _ in 0..<3 {
            let t0 = Date()
            _ = try await payee.start()
            times.append(Date().timeIntervalSince(t0))
            payee.stop()
        }
        times.sort()
        printRow("restart, \(imported) payments in history (\(size >> 20) MiB)", String(format: "%.0f ms (best %.0f of 3, start → ready line)", times[1] * 1000, times[0] * 1000), "< 1 s")
    }

    static func openMany(_ payer: BenchNode, _ payee: String, _ n: Int) async throws -> [JSONValue] {
        try await withThrowingTaskGroup(of: [JSONValue].self) { group in
            let lanes = 8
            for lane in 0..<lanes {
                let count = n / lanes + (lane < n % lanes ? 1 : 0)
                group.addTask {
                    var mine: [JSONValue] = []
                    for _ in 0..<count { mine.append(try await payer.open(payee, deposit: "1000000000000")) }
                    return mine
                }
            }
            var ids: [JSONValue] = []
            for try await part in group { ids += part }
            return ids
        }
    }

    /// Vouchers signed and verified per second on this thread (one second each).
    static func voucherCrypto() throws -> (sign: Double, verify: Double) {
        let key = IdentityKey.generate()
        let domain = SigningDomain(chainID: 0)
        let channel = try ChannelID([UInt8](repeating: 7, count: 32))
        var signed: [PaymentUpdate] = []
        var t0 = Date()
        var n: UInt64 = 0
        while Date().timeIntervalSince(t0) < 1 {
            n += 1
            signed.append(try PaymentUpdate(channelID: channel, nonce: n, amount: Amount(UInt128(n)), timestamp: 1, signature: .unsigned)
                .signed(with: key, domain: domain))
        }
        let signRate = Double(n) / Date().timeIntervalSince(t0)
        t0 = Date()
        var verified = 0
        let signer = key.address
        while Date().timeIntervalSince(t0) < 1 {
            try signed[verified % signed.count].verify(expectedSigner: signer, domain: domain)
            verified += 1
        }
        return (signRate, Double(verified) / Date().timeIntervalSince(t0))
    }

    /// Appends `rows` vouchers after the channel's latest one (bulk import helper of the store).
    /// The last one, which becomes the latest voucher, is signed by the payer: a node checks that
    /// signature at start (Specs/storage.md); the rows below it only fill the history.
    static func importHistory(path: String, channel: ChannelID, rows: Int, payerKey: IdentityKey) async throws -> Int {
        let store = try ChannelStore(path: path, configuration: StoreConfiguration(synchronous: .normal))
        guard let record = try store.channel(channel) else { throw Failure("channel missing in \(path)") }
        let start = (record.latestVoucher?.nonce ?? 0) + 1
        let base = record.latestVoucher?.amount.atomicUnits ?? 0
        let signature = try Signature65([UInt8](repeating: 1, count: 64) + [27])
        let batch = 50_000
        var done = 0
        while done < rows {
            let n = min(batch, rows - done)
            var vouchers = (0..<n).map { i in
                let nonce = start + UInt64(done + i)
                return StoredVoucher(channel: channel, nonce: nonce, amount: Amount(base + UInt128(nonce - start + 1)), signature: signature,
                                     timestampMillis: 1_700_000_000_000)
            }
            if done + n == rows, let last = vouchers.last {
                let domain = SigningDomain(chainID: record.chainID, verifyingContract: record.verifyingContract)
                let signed = try PaymentUpdate(channelID: channel, nonce: last.nonce, amount: last.amount,
                                               timestamp: UInt64(last.timestampMillis), signature: .unsigned)
                    .signed(with: payerKey, domain: domain)
                vouchers[vouchers.count - 1].signature = signed.signature
            }
            try await store.importVoucherHistory(vouchers)
            done += n
        }
        await store.close()
        return done
    }

    static func paymeshExecutable() throws -> URL {
        let here = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
        let url = here.appendingPathComponent("paymesh")
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw Failure("\(url.path) not found: build it first (swift build -c release --product paymesh)")
        }
        return url
    }

    private func ms(_ v: JSONValue?) -> String { v?.doubleValue.map { String(format: "%.2f", $0) } ?? "?" }
    private func kib(_ bytes: Int, _ n: Int) -> String { String(format: "%.1f", Double(bytes) / 1024 / Double(max(1, n))) }
}

extension JSONValue {
    func stringValueOrThrow() throws -> String {
        guard let s = stringValue else { throw PaymentsBench.Failure("expected a string, got \(self)") }
        return s
    }
}

/// A `paymesh start` child process.
final class BenchNode: @unchecked Sendable {
    let exe: URL
    let sync: String
    let directory: String
    let port: Int
    let peers: [Int]
    /// When set, the node runs with this soft descriptor limit (`ulimit -n`, for the soak).
    let fdLimit: Int?
    /// Added to the node's environment (e.g. PAYMESH_MAX_CHANNELS_PER_PEER).
    let extraEnvironment: [String: String]
    private var process: Process?

    init(exe: URL, sync: String, peers: [Int] = [], fdLimit: Int? = nil, environment: [String: String] = [:]) {
        self.exe = exe
        self.extraEnvironment = environment
        self.sync = sync
        self.peers = peers
        self.fdLimit = fdLimit
        // PAYMESH_BENCH_DIR puts the nodes' data elsewhere (e.g. /dev/shm: the path without the disk).
        let parent = ProcessInfo.processInfo.environment["PAYMESH_BENCH_DIR"] ?? "/tmp"
        directory = "\(parent)/pmb-\(UUID().uuidString.prefix(8))"
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        port = BenchNode.freePort()
    }

    var socket: String { directory + "/console.sock" }

    func start() async throws -> String {
        let p = Process()
        let arguments = ["start", "--data-dir", directory, "--listen", "127.0.0.1:\(port)", "--no-mdns", "--log-level", "warning",
                         "--log-file", directory + "/node.log"] + peers.flatMap { ["--peer", "127.0.0.1:\($0)"] }
        if let fdLimit {
            // The shell lowers the soft limit and execs the node: same pid, realistic EMFILE.
            p.executableURL = URL(fileURLWithPath: "/bin/sh")
            p.arguments = ["-c", "ulimit -S -n \(fdLimit) && exec \"$0\" \"$@\"", exe.path] + arguments
        } else {
            p.executableURL = exe
            p.arguments = arguments
        }
        p.environment = ProcessInfo.processInfo.environment.merging(["PAYMESH_SYNC": sync].merging(extraEnvironment) { a, _ in a }) { _, b in b }
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        process = p
        // The ready line is the first line on stdout.
        let line: String = try await withCheckedThrowingContinuation { c in
            Thread {
                var data = Data()
                while true {
                    let chunk = out.fileHandleForReading.availableData
                    if chunk.isEmpty { return c.resume(throwing: PaymentsBench.Failure("paymesh exited before ready")) }
                    data.append(chunk)
                    if data.contains(UInt8(ascii: "\n")) { return c.resume(returning: String(decoding: data, as: UTF8.self)) }
                }
            }.start()
        }
        guard let id = line.split(separator: " ").first(where: { $0.hasPrefix("id=") }) else { throw PaymentsBench.Failure("bad ready line \(line)") }
        return String(id.dropFirst(3))
    }

    func waitConnected() async throws {
        for _ in 0..<500 {
            if try await call("peers")["peers"]?.arrayValue?.contains(where: { $0["state"] == "connected" }) == true { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw PaymentsBench.Failure("nodes did not connect")
    }

    func call(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
        try await ConsoleClient.withConnection(socketPath: socket) { try await $0.call(method, params) }
    }

    func open(_ peer: String, deposit: String) async throws -> JSONValue {
        let r = try await call("channel.open", ["peer": .string(peer), "asset": "USDC", "decimals": 6, "deposit": .string(deposit), "timeout_ms": 60_000])
        guard let id = r["channel"] else { throw PaymentsBench.Failure("open failed: \(r)") }
        return id
    }

    /// The node's pid while it runs (nil before start and after stop/kill).
    var pid: Int32? { process.map(\.processIdentifier) }

    /// nil while the process runs; otherwise how it ended ("exit 0", "signal 4").
    var exitDescription: String? {
        guard let p = process, !p.isRunning else { return nil }
        return p.terminationReason == .uncaughtSignal ? "signal \(p.terminationStatus)" : "exit \(p.terminationStatus)"
    }

    /// Forgets an exited process so that `start()` can run it again.
    func reap() {
        if let p = process, !p.isRunning { process = nil }
    }

    func residentBytes() -> Int {
        guard let p = process, let s = try? String(contentsOfFile: "/proc/\(p.processIdentifier)/statm", encoding: .utf8) else { return 0 }
        let parts = s.split(separator: " ")
        return parts.count > 1 ? (Int(parts[1]) ?? 0) * Int(sysconf(Int32(_SC_PAGESIZE))) : 0
    }

    func stop() {
        guard let p = process else { return }
        p.terminate()
        p.waitUntilExit()
        process = nil
    }

    func kill() {
        guard let p = process else { return }
        Foundation.kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        process = nil
    }

    static func freePort() -> Int {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { Glibc.close(fd) }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) } }
        return Int(UInt16(bigEndian: addr.sin_port))
    }
}


/// The disk's durable-write floor: what one SQLite commit in `synchronous=FULL` WAL mode cannot go
/// below (it writes its WAL frames, then syncs the WAL once). `paymesh-bench fsync` prints it alone;
/// `paymesh-bench payments` prints it next to the ack latency of the same run. An acknowledged
/// payment at a paced rate costs two such syncs in series (the payer persists before it sends, the
/// payee before it acknowledges, Specs/channels.md §4.2), so twice this floor bounds its latency.
struct DiskBench {
    /// Where the files go: the directory the bench's nodes keep their stores in.
    var directory = NSTemporaryDirectory()
    var samples = 400

    struct Figures {
        var one: Percentiles
        var twoInSeries: Percentiles
    }

    struct Percentiles {
        var p50: Double
        var p99: Double
        var max: Double

        init(_ millis: [Double]) {
            let s = millis.sorted()
            p50 = s.isEmpty ? 0 : s[s.count / 2]
            p99 = s.isEmpty ? 0 : s[min(s.count - 1, s.count * 99 / 100)]
            max = s.last ?? 0
        }

        var text: String { String(format: "%.2f / %.2f / %.2f ms", p50, p99, max) }
    }

    /// One 4 KiB overwrite + `fdatasync` (a WAL frame rewritten after a WAL restart), and the same
    /// on two files one after the other (the payer's sync, then the payee's). With `idleMicros`, the
    /// disk rests that long before each pair, as between two payments at a paced rate: on this
    /// virtual disk a sync that follows a pause costs several times one that follows another sync.
    func measure(idleMicros: UInt32 = 0) throws -> Figures {
        let a = try SyncedFile(path: directory + "/pmb-fsync-a-\(getpid())")
        let b = try SyncedFile(path: directory + "/pmb-fsync-b-\(getpid())")
        defer { a.remove(); b.remove() }
        for _ in 0..<10 { try a.sync(); try b.sync() } // warm-up: the blocks exist, as in a reused WAL
        var one: [Double] = [], two: [Double] = []
        for _ in 0..<samples {
            if idleMicros > 0 { usleep(idleMicros) }
            let t0 = nowNanos()
            try a.sync()
            let t1 = nowNanos()
            try b.sync()
            let t2 = nowNanos()
            one.append(Double(t1 - t0) / 1e6)
            two.append(Double(t2 - t0) / 1e6)
        }
        return Figures(one: Percentiles(one), twoInSeries: Percentiles(two))
    }

    func run() throws {
        let f = try measure()
        print("durable write on \(directory): 4 KiB overwrite + fdatasync, \(samples) samples")
        printRow("one sync: p50 / p99 / max", f.one.text)
        printRow("two in series: p50 / p99 / max", f.twoInSeries.text)
        let idle = try measure(idleMicros: 1_000)
        printRow("one sync after 1 ms idle: p50 / p99 / max", idle.one.text)
        printRow("two in series after 1 ms idle: p50 / p99 / max", idle.twoInSeries.text)
        // The same while another thread syncs a third file back to back: on a virtual disk the
        // latency of a sync can depend on whether the device is already busy.
        let busy = try SyncedFile(path: directory + "/pmb-fsync-c-\(getpid())")
        let stop = StopFlag()
        let thread = Thread { while !stop.value.load(ordering: .relaxed) { try? busy.sync() } }
        thread.start()
        let g = try measure()
        stop.value.store(true, ordering: .relaxed)
        printRow("one sync, disk busy: p50 / p99 / max", g.one.text)
        printRow("two in series, disk busy: p50 / p99 / max", g.twoInSeries.text)
        busy.remove()
    }

    final class StopFlag: Sendable { let value = Atomic<Bool>(false) }

    /// A file of one 4 KiB block rewritten and synced with `fdatasync` (as SQLite syncs its WAL on
    /// Linux). Used by one thread at a time.
    final class SyncedFile: @unchecked Sendable {
        let fd: Int32
        let path: String
        private var block = [UInt8](repeating: 0x5a, count: 4_096)

        init(path: String) throws {
            self.path = path
            fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else { throw PaymentsBench.Failure("cannot create \(path): errno \(errno)") }
        }

        deinit { close(fd) }

        func sync() throws {
            block[0] &+= 1
            let written = block.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
            guard written == block.count, fdatasync(fd) == 0 else { throw PaymentsBench.Failure("write/sync of \(path) failed: errno \(errno)") }
        }

        func remove() { unlink(path) }
    }
}
