import Foundation
import Glibc
import PaymeshConsole
import PaymeshHostile
import PaymeshNode

/// `paymesh-bench soak`: a real `paymesh start` process (soft descriptor limit lowered, default
/// 1024) serving a legitimate payer process that pays at a fixed paced rate, while the hostile
/// peers of PaymeshHostile attack it one after the other (issue 7, "Tests and figures"). Every
/// phase is bounded; the nodes are killed at the end. Prints figures; asserts nothing.
struct SoakBench {
    struct Options: Sendable {
        var secondsPerAttack = 35.0
        var rate = 500
        var fdLimit = 1_024
        var stalled = 3_000
        var fillPeers = 64
        var recoverSeconds = 5.0
        var rssCapMB = 2_048
        var only: Set<String>?
        var keep = false
    }

    let options: Options

    /// One phase: its name and the attack run during it (nil: quiet).
    struct Phase: Sendable {
        let name: String
        let attack: (@Sendable (HostileTarget, Double, StopSignal) -> AttackReport)?
    }

    struct Row {
        var phase: String
        var attack: AttackReport?
        var pay: PayFigures
        var probe: ProbeFigures
        var peakRSS = 0, rssAfter = 0, peakFDs = 0, fdsAfter = 0
        var cpuPercent = 0.0
        var alive = true
        var exit: String?
        var extra: String = ""
        var capped = false
    }

    func run() async throws {
        let exe = try PaymentsBench.paymeshExecutable()
        let myLimit = HostileSocket.raiseDescriptorLimit()
        let o = options
        print("soak: paymesh \(exe.path); node fd soft limit \(o.fdLimit), payer \(o.rate) payments/s, \(Int(o.secondsPerAttack)) s per phase, "
              + "recovery \(Int(o.recoverSeconds)) s, RSS cap \(o.rssCapMB) MB, attacker fd limit \(myLimit), \(ProcessInfo.processInfo.activeProcessorCount) cores")

        let target = BenchNode(exe: exe, sync: "full", fdLimit: o.fdLimit)
        var targetID = try await target.start()
        let payer = BenchNode(exe: exe, sync: "full", peers: [target.port])
        defer {
            payer.kill()
            target.kill()
            if !options.keep {
                try? FileManager.default.removeItem(atPath: payer.directory)
                try? FileManager.default.removeItem(atPath: target.directory)
            }
        }
        // SIGTERM (scripts/soak.sh's outer timeout) or ^C: kill both nodes before leaving.
        let guardian = SignalGuard { payer.kill(); target.kill() }
        defer { withExtendedLifetime(guardian) {} }
        let payerID = try await payer.start()
        try await payer.waitConnected()
        _ = try await payer.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000000000000000000"])
        let channel = try await payer.open(targetID, deposit: "100000000000000")
        var ledger = PayLedger()
        let warm = try await payer.call("pay", ["channel": channel, "amount": "1", "count": 500, "timeout_ms": 60_000])
        ledger.acked = warm["ackedNonce"]?.intValue ?? 0
        print("target \(targetID) on 127.0.0.1:\(target.port) (dir \(target.directory)); channel \(channel.stringValue ?? "?") open, warm-up acked \(ledger.acked)")

        let sampler = Sampler()
        let samplerTask = Task { await sampler.run(pid: { target.pid }) }
        defer { samplerTask.cancel() }
        let hostileTarget = HostileTarget(port: target.port)
        var rows: [Row] = []
        var crashes: [String] = []

        for phase in phases() where o.only.map({ $0.contains(phase.name) || phase.name.hasPrefix("quiet") }) ?? true {
            let stop = StopSignal()
            sampler.begin(stop: stop, capBytes: o.rssCapMB << 20)
            let cpu0 = Self.cpuSeconds(target.pid)
            let t0 = Date()
            var row = Row(phase: phase.name, pay: PayFigures(), probe: ProbeFigures())
            let seconds = o.secondsPerAttack
            let probeStop = StopSignal()
            async let probe = offload("probe") { Self.probeHandshakes(hostileTarget, stop: probeStop) }

            do {
                if phase.name == "maxPeers+reconnect" {
                    try await Self.maxPeersPhase(payer: payer, payerID: payerID, node: target, target: hostileTarget, channel: channel, options: o, started: t0,
                                                 ledger: &ledger, row: &row)
                } else {
                    async let attack = Self.runAttack(phase, hostileTarget, seconds, stop)
                    row.pay = await Self.pay(payer, channel: channel, seconds: seconds, rate: o.rate, ledger: &ledger)
                    stop.stop()
                    row.attack = try await attack
                }
            } catch {
                row.extra += " error: \(error)"
            }
            probeStop.stop()
            row.probe = try await probe
            let during = sampler.end()
            row.peakRSS = during.peakRSS
            row.peakFDs = during.peakFDs
            row.capped = during.capped && phase.attack != nil
            row.cpuPercent = Self.cpuSeconds(target.pid).map { c1 in cpu0.map { (c1 - $0) / Date().timeIntervalSince(t0) * 100 } ?? 0 } ?? 0
            // Leak check: quiet for a while, then what the node still holds.
            try await Task.sleep(for: .seconds(o.recoverSeconds))
            if let pid = target.pid {
                row.rssAfter = Sampler.rss(pid) ?? 0
                row.fdsAfter = Sampler.fdCount(pid) ?? 0
            }
            if let exit = target.exitDescription {
                row.alive = false
                row.exit = exit
                crashes.append("\(phase.name): \(exit)")
                print("!! target died during \(phase.name) (\(exit)); log \(target.directory)/node.log — restarting it")
                target.reap()
                targetID = try await target.start()
            }
            // Keep the phases apart: the next one starts with the payer connected if it can be.
            if !(await Self.connected(target, payerID)) {
                let w0 = Date()
                var back = false
                while Date().timeIntervalSince(w0) < max(30, o.secondsPerAttack) {
                    if await Self.connected(target, payerID) { back = true; break }
                    try await Task.sleep(for: .milliseconds(200))
                }
                let waited = Date().timeIntervalSince(w0)
                row.extra += back ? String(format: " payer reconnected %.1f s after the phase", waited)
                    : String(format: " payer still not connected %.0f s after the phase", waited)
            }
            rows.append(row)
            print(Self.progressLine(row, base: rows.first))
        }
        Self.printTable(rows, options: o, crashes: crashes)
    }

    static func runAttack(_ phase: Phase, _ target: HostileTarget, _ seconds: Double, _ stop: StopSignal) async throws -> AttackReport? {
        guard let attack = phase.attack else { return nil }
        return try await offload(phase.name) { attack(target, seconds, stop) }
    }

    /// Fills the node's peer slots with fresh identities, then restarts the payer (kill -9, start):
    /// how long until it is connected again, and its payments for the rest of the phase.
    static func maxPeersPhase(payer: BenchNode, payerID: String, node: BenchNode, target: HostileTarget, channel: JSONValue, options o: Options, started t0: Date,
                              ledger: inout PayLedger, row: inout Row) async throws {
        let fill = o.fillPeers
        let (swarm, fillReport) = try await offload("fill") { HostileAttacks.fillMaxPeers(target, count: fill) }
        defer { swarm.close() }
        payer.kill()
        _ = try await payer.start()
        let restarted = Date()
        var back: Double?
        while Date().timeIntervalSince(restarted) < o.secondsPerAttack {
            if await connected(node, payerID) { back = Date().timeIntervalSince(restarted); break }
            try await Task.sleep(for: .milliseconds(100))
        }
        row.extra = back.map { String(format: "payer back after %.1f s", $0) } ?? "payer NOT back within \(Int(o.secondsPerAttack)) s"
        let left = max(2, o.secondsPerAttack - Date().timeIntervalSince(t0))
        row.pay = await pay(payer, channel: channel, seconds: left, rate: o.rate, ledger: &ledger)
        var report = fillReport
        report["stillOpen"] = swarm.openCount
        report.seconds = Date().timeIntervalSince(t0)
        row.attack = report
    }

    /// Whether `node` lists `peer` as connected. Asked of the node under attack: the payer's own
    /// table says "connected" for an instant after each handshake even when the node then refuses it.
    static func connected(_ node: BenchNode, _ peer: String) async -> Bool {
        guard let result = try? await withDeadline(5, { try await node.call("peers") }) else { return false }
        return result["peers"]?.arrayValue?.contains(where: { $0["state"] == "connected" && $0["id"]?.stringValue == peer }) == true
    }

    func phases() -> [Phase] {
        let o = options
        return [
            Phase(name: "quiet (baseline)", attack: nil),
            Phase(name: "stalledHandshakes", attack: { t, s, stop in HostileAttacks.stalledHandshakes(t, count: o.stalled, seconds: s, stop: stop) }),
            Phase(name: "pingFlood", attack: { t, s, stop in HostileAttacks.pingFlood(t, seconds: s, stop: stop) }),
            Phase(name: "errorReplyFlood", attack: { t, s, stop in HostileAttacks.errorReplyFlood(t, seconds: s, stop: stop) }),
            Phase(name: "handshakeThenClose", attack: { t, s, stop in HostileAttacks.handshakeThenClose(t, seconds: s, stop: stop) }),
            Phase(name: "throwawayBans", attack: { t, s, stop in HostileAttacks.throwawayIdentityViolations(t, seconds: s, stop: stop) }),
            Phase(name: "maxPeers+reconnect", attack: nil),
            Phase(name: "openFlood", attack: { t, s, stop in HostileAttacks.openFlood(t, seconds: s, stop: stop) }),
            Phase(name: "quiet (after)", attack: nil),
        ]
    }

    // MARK: The legitimate payer

    struct PayLedger { var acked: Int64 = 0 }

    struct PayFigures {
        var acked: Int64 = 0
        var seconds = 0.0
        var p50: Double?
        var p99: Double?
        var calls = 0
        var incomplete = 0
        var error: String?
        var perSecond: Double { seconds > 0 ? Double(acked) / seconds : 0 }
    }

    /// Pays at `rate`/s for `seconds` through the payer's console (`pay` with count and rate);
    /// calls again when one ends early, until the time is up. p50 is the sample-weighted mean of
    /// the calls' medians, p99 the worst call's.
    static func pay(_ payer: BenchNode, channel: JSONValue, seconds: Double, rate: Int, ledger: inout PayLedger) async -> PayFigures {
        var f = PayFigures()
        let start = Date()
        var weighted = 0.0, samples = 0.0
        while true {
            let left = seconds - Date().timeIntervalSince(start)
            guard left > 0.5 else { break }
            let count = max(1, Int(left * Double(rate)))
            f.calls += 1
            do {
                let r = try await withDeadline(left + 30) {
                    try await payer.call("pay", ["channel": channel, "amount": "1", "count": .int(Int64(count)), "rate": .int(Int64(rate)),
                                                 "timeout_ms": .int(Int64((left + 15) * 1000))])
                }
                guard let r else { f.error = "pay call did not return"; break }
                let acked = r["ackedNonce"]?.intValue ?? ledger.acked
                f.acked += max(0, acked - ledger.acked)
                ledger.acked = max(ledger.acked, acked)
                if r["complete"]?.boolValue != true {
                    f.incomplete += 1
                    f.error = r["error"]?.stringValue ?? f.error
                }
                if let n = r["latencyMs"]?["samples"]?.doubleValue, n > 0 {
                    weighted += (r["latencyMs"]?["p50"]?.doubleValue ?? 0) * n
                    samples += n
                    f.p99 = max(f.p99 ?? 0, r["latencyMs"]?["p99"]?.doubleValue ?? 0)
                }
                if r["complete"]?.boolValue != true { try? await Task.sleep(for: .milliseconds(200)) }
            } catch {
                f.error = "\(error)"
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
        f.seconds = Date().timeIntervalSince(start)
        if samples > 0 { f.p50 = weighted / samples }
        return f
    }

    // MARK: Handshake probe (a well-behaved newcomer)

    struct ProbeFigures {
        var times: [Double] = []
        var failures = 0
        var p50: Double? { times.isEmpty ? nil : times.sorted()[times.count / 2] }
        var max: Double? { times.max() }
    }

    /// A fresh identity completes a handshake every second (timeout 15 s) until stopped.
    static func probeHandshakes(_ target: HostileTarget, stop: StopSignal) -> ProbeFigures {
        var f = ProbeFigures()
        let identity = try? HostileIdentity.throwaway()
        while !stop.isStopped {
            let t0 = Date()
            do {
                let c = try HostileConnection.connect(host: target.host, port: target.port, identity: identity, timeout: 15)
                f.times.append(Date().timeIntervalSince(t0) * 1000)
                c.close()
            } catch {
                f.failures += 1
            }
            let wait = 1 - Date().timeIntervalSince(t0)
            if wait > 0 { Thread.sleep(forTimeInterval: wait) }
        }
        return f
    }

    // MARK: /proc

    static func cpuSeconds(_ pid: Int32?) -> Double? {
        guard let pid, let s = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = s.lastIndex(of: ")") else { return nil }
        let fields = s[s.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14 and stime 15 (proc(5)).
        guard fields.count > 13, let u = Double(fields[11]), let k = Double(fields[12]) else { return nil }
        return (u + k) / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    // MARK: Output

    static func mb(_ bytes: Int) -> String { String(format: "%.0f", Double(bytes) / 1_048_576) }
    static func msText(_ v: Double?) -> String { v.map { String(format: "%.1f", $0) } ?? "—" }
    static func ratio(_ v: Double?, _ base: Double?) -> String {
        guard let v, let base, base > 0 else { return "" }
        return String(format: " (%.1f×)", v / base)
    }

    static func progressLine(_ r: Row, base: Row?) -> String {
        "  \(r.phase): payer \(String(format: "%.0f", r.pay.perSecond))/s, p99 \(msText(r.pay.p99)) ms, peak RSS \(mb(r.peakRSS)) MB, "
            + "after \(mb(r.rssAfter)) MB, peak fds \(r.peakFDs), \(r.alive ? "alive" : "DIED \(r.exit ?? "")")"
            + (r.attack.map { " — \($0)" } ?? "") + (r.extra.isEmpty ? "" : " — \(r.extra)")
    }

    static func printTable(_ rows: [Row], options: Options, crashes: [String]) {
        let base = rows.first { $0.phase.hasPrefix("quiet") }
        print("")
        print("| phase | payer acked/s (vs quiet) | ack p50 ms | ack p99 ms (vs quiet) | newcomer handshake p50 / max ms (fail) | node peak RSS MB | RSS after MB | peak fds | fds after | node CPU % | alive |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for r in rows {
            let rel = base.map { b in b.pay.perSecond > 0 ? String(format: " (%.2f)", r.pay.perSecond / b.pay.perSecond) : "" } ?? ""
            let probe = "\(msText(r.probe.p50)) / \(msText(r.probe.max)) (\(r.probe.failures))"
            print("| \(r.phase)\(r.capped ? " [RSS cap hit]" : "") | \(String(format: "%.0f", r.pay.perSecond))\(rel)\(r.pay.incomplete > 0 ? " ⚠" : "") | \(msText(r.pay.p50)) | \(msText(r.pay.p99))\(ratio(r.pay.p99, base?.pay.p99)) | \(probe) | \(mb(r.peakRSS)) | \(mb(r.rssAfter)) | \(r.peakFDs) | \(r.fdsAfter) | \(String(format: "%.0f", r.cpuPercent)) | \(r.alive ? "yes" : "NO: \(r.exit ?? "?")") |")
        }
        print("")
        for r in rows {
            var parts: [String] = []
            if let a = r.attack { parts.append(a.description) }
            if !r.extra.isEmpty { parts.append(r.extra) }
            if r.pay.incomplete > 0 || r.pay.error != nil { parts.append("payer: \(r.pay.calls) pay calls, \(r.pay.incomplete) incomplete, \(r.pay.error ?? "")") }
            if !parts.isEmpty { print("- \(r.phase): " + parts.joined(separator: "; ")) }
        }
        print("crashes: \(crashes.count)" + (crashes.isEmpty ? "" : " — " + crashes.joined(separator: ", ")))
    }
}

/// Samples the node's RSS and descriptors every 200 ms; keeps the peaks of the current phase and
/// stops the phase's attack when RSS passes the cap (the machine is shared).
final class Sampler: @unchecked Sendable {
    struct Peaks { var peakRSS = 0, peakFDs = 0, capped = false }
    private let lock = NSLock()
    private var peaks = Peaks()
    private var stop: StopSignal?
    private var cap = Int.max

    func begin(stop: StopSignal, capBytes: Int) {
        lock.withLock { peaks = Peaks(); self.stop = stop; cap = capBytes }
    }

    func end() -> Peaks { lock.withLock { let p = peaks; stop = nil; return p } }

    func run(pid: @Sendable () -> Int32?) async {
        while !Task.isCancelled {
            if let pid = pid() {
                let rss = Self.rss(pid) ?? 0, fds = Self.fdCount(pid) ?? 0
                lock.withLock {
                    peaks.peakRSS = max(peaks.peakRSS, rss)
                    peaks.peakFDs = max(peaks.peakFDs, fds)
                    if rss > cap, let stop { peaks.capped = true; stop.stop() }
                }
            }
            try? await Task.sleep(for: .milliseconds(200))
        }
    }

    /// VmRSS of /proc/PID/status, bytes.
    static func rss(_ pid: Int32) -> Int? { statusField(pid, "VmRSS:") }
    static func hwm(_ pid: Int32) -> Int? { statusField(pid, "VmHWM:") }

    static func statusField(_ pid: Int32, _ name: String) -> Int? {
        guard let s = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = s.split(separator: "\n").first(where: { $0.hasPrefix(name) }),
              let kb = Int(line.split(separator: " ").dropFirst().first ?? "") else { return nil }
        return kb * 1024
    }

    static func fdCount(_ pid: Int32) -> Int? {
        (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd"))?.count
    }
}

/// `body`'s result, or nil when it takes longer than `seconds` (the body is cancelled).
func withDeadline<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T? {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        return try await group.next()!
    }
}

/// Kills the soak's node processes when the bench is interrupted (SIGTERM, SIGINT), so that no
/// node outlives it.
final class SignalGuard: @unchecked Sendable {
    private var sources: [any DispatchSourceSignal] = []

    init(_ cleanup: @escaping @Sendable () -> Void) {
        for sig in [SIGTERM, SIGINT] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler {
                print("soak: interrupted (signal \(sig)); killing the nodes")
                cleanup()
                exit(128 + sig)
            }
            source.resume()
            sources.append(source)
        }
    }
}
