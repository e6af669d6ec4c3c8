import Foundation
import PaymeshCrypto
import PaymeshMessages
import PaymeshStore
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// `paymesh-bench store`: what one voucher's durable write costs on this disk, alone (no network,
/// no node): a `ChannelStore` (synchronous=FULL unless `--sync normal`) records one guarded voucher
/// at a time, `gap` apart (1 ms: the paced 1,000 payments/s of `paymesh-bench payments`), and the
/// bench prints, as p50 / p99 over the samples,
/// - the commit itself (BEGIN … COMMIT on the writer thread, the WAL sync included),
/// - the request from `enqueueVouchers` to its completion on the writer thread (the commit plus
///   the wake-up of the writer thread),
/// - and next to them the floor of the same bytes written with `pwrite` + `fdatasync` by hand:
///   three WAL frames (a voucher dirties three pages) appended at the end of a growing file, and
///   the same rewritten over blocks that exist (a WAL that started over).
struct StoreBench {
    var samples = 2_000
    var gapMicros = 1_000
    var sync = "full"
    var directory = NSTemporaryDirectory()

    func run() async throws {
        let dir = directory + "/pmstore-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let configuration = StoreConfiguration(synchronous: sync == "normal" ? .normal : .full)
        let store = try ChannelStore(path: dir + "/store.sqlite", configuration: configuration)
        let channel = try ChannelID([UInt8](repeating: 0xC4, count: 32))
        let payer = try EthereumAddress([UInt8](repeating: 0xAA, count: 20))
        let payee = try EthereumAddress([UInt8](repeating: 0xBB, count: 20))
        let signature = try Signature65([UInt8](repeating: 0x01, count: 64) + [27])
        try await store.saveChannel(ChannelRecord(
            id: channel, role: .payee, localAddress: payee, remoteAddress: payer, asset: try Asset(id: "USDC", decimals: 6),
            deposit: Amount(UInt128(1) << 100), challengePeriodSeconds: 3_600, settlementBackend: "local-ledger",
            chainID: 31_337, verifyingContract: .zero, status: .open, openSignature: signature, openedAtMillis: 0))

        let commits = Mutex<[UInt64]>([])
        store.observeCommits { _, nanos in commits.withLock { $0.append(nanos) } }
        let done = DispatchSemaphore(value: 0)
        let completedAt = Atomic<UInt64>(0)
        var request: [Double] = [], handBack: [Double] = []
        let warmUp = 100
        for nonce in 1...UInt64(samples + warmUp) {
            let v = StoredVoucher(channel: channel, nonce: nonce, amount: Amount(UInt128(nonce) * 1_000), signature: signature,
                                  taskID: nil, timestampMillis: Int64(nonce))
            let t0 = nowNanos()
            store.enqueueVouchers([v]) { result in
                completedAt.store(nowNanos(), ordering: .sequentiallyConsistent)
                if case .failure(let error) = result { print("write failed: \(error)") }
                done.signal()
            }
            done.wait()
            let t2 = nowNanos()
            let t1 = completedAt.load(ordering: .sequentiallyConsistent)
            if nonce > UInt64(warmUp) {
                request.append(Double(t1 - t0) / 1e3)
                handBack.append(Double(t2 - t1) / 1e3)
            }
            usleep(UInt32(gapMicros))
        }
        await store.close()
        let took = commits.withLock { $0 }.dropFirst(warmUp + 1).map { Double($0) / 1e3 }
        let floor = try Self.rawFloor(directory: dir, samples: min(samples, 1_000), gapMicros: gapMicros)

        print("paymesh-bench store — one voucher per commit, \(samples) samples \(gapMicros) µs apart, synchronous=\(sync == "normal" ? "NORMAL" : "FULL"), \(directory)")
        printRow("commit (BEGIN … COMMIT), µs p50 / p99", Self.p(took))
        printRow("enqueue → completion, µs p50 / p99", Self.p(request))
        printRow("completion → waiting thread, µs p50 / p99", Self.p(handBack))
        printRow("floor: 3 frames appended + fdatasync, µs", Self.p(floor.append))
        printRow("floor: 3 frames rewritten + fdatasync, µs", Self.p(floor.overwrite))
    }

    static func p(_ values: [Double]) -> String {
        let s = values.sorted()
        guard !s.isEmpty else { return "-" }
        return String(format: "%.0f / %.0f", s[s.count / 2], s[min(s.count - 1, s.count * 99 / 100)])
    }

    /// Three WAL frames (24-byte header + 4 KiB page each, written as SQLite writes them: six
    /// `pwrite`s) and one `fdatasync`, appended to a growing file and rewritten over existing blocks.
    static func rawFloor(directory: String, samples: Int, gapMicros: Int) throws -> (append: [Double], overwrite: [Double]) {
        let frame = 24 + 4_096, header = [UInt8](repeating: 0x11, count: 24), page = [UInt8](repeating: 0x5a, count: 4_096)
        func measure(preallocate: Bool) throws -> [Double] {
            let path = directory + "/floor-\(preallocate)"
            let fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0o600)
            guard fd >= 0 else { throw PaymentsBench.Failure("cannot create \(path): errno \(errno)") }
            defer { close(fd); unlink(path) }
            if preallocate {
                let zeros = [UInt8](repeating: 0, count: 1 << 20)
                var written = 0
                while written < 32 + frame * 3 * (samples + 10) { written += zeros.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, off_t(written)) } }
                fsync(fd)
            }
            var offset = 32
            var out: [Double] = []
            for i in 0..<(samples + 10) {
                let t0 = nowNanos()
                for _ in 0..<3 {
                    _ = header.withUnsafeBytes { pwrite(fd, $0.baseAddress, 24, off_t(offset)) }
                    _ = page.withUnsafeBytes { pwrite(fd, $0.baseAddress, 4_096, off_t(offset + 24)) }
                    offset += frame
                }
                guard fdatasync(fd) == 0 else { throw PaymentsBench.Failure("fdatasync failed: errno \(errno)") }
                if i >= 10 { out.append(Double(nowNanos() - t0) / 1e3) }
                usleep(UInt32(gapMicros))
            }
            return out
        }
        return (try measure(preallocate: false), try measure(preallocate: true))
    }
}
