import Foundation
import PaymeshConsole
import PaymeshNode

/// `paymesh-bench node`: node figures with real `paymesh` processes on loopback, started and
/// stopped through `paymesh mesh` (the binary next to paymesh-bench). mDNS discovery goes
/// through the running avahi-daemon (scripts/avahi/start.sh, loopback only).
struct NodeBench {
    let seconds: Double
    /// Mesh sizes for the discovery measurement.
    var discoverySizes = [5, 20]
    /// Peers of the hub for the memory measurement (a star of hubPeers + 1 nodes).
    var hubPeers = 50

    typealias Failure = BenchFailure
    let paymesh = siblingPaymesh

    func run() async throws {
        let root = try paymeshScratchDirectory("pmbench")
        defer { try? FileManager.default.removeItem(atPath: root) }
        print("paymesh-bench node — \(ProcessInfo.processInfo.activeProcessorCount) cores, nodes are separate \(paymesh) processes")

        for n in discoverySizes {
            let dir = root + "/mdns-\(n)"
            let summary = try await meshUp(dir, ["--nodes", "\(n)"])
            defer { meshDown(dir) }
            guard summary["complete"] == true else { throw Failure(description: "the \(n)-node mDNS mesh did not connect fully") }
            let connect = summary["connectSeconds"]?.doubleValue ?? .nan, ready = summary["readySeconds"]?.doubleValue ?? .nan
            printRow("mDNS, \(n) nodes: all \(n * (n - 1) / 2) links up, s", String(format: "%.2f", connect))
            printRow("  (processes ready before that, s)", String(format: "%.2f", ready))
        }

        let single = root + "/one"
        let one = try await meshUp(single, ["--nodes", "1", "--no-mdns"])
        let pid = Int32(one["pids"]?.arrayValue?.first?.intValue ?? 0)
        let (rate, meanMicros) = try await consoleRoundTrips(socket: single + "/node-0/console.sock")
        printRow("console calls/s (getinfo, one connection)", formatRate(rate))
        printRow("  mean round trip, µs", String(format: "%.0f", meanMicros))
        try await Task.sleep(for: .seconds(1))
        printRow("node RSS at rest, no peers, MiB", mebibytes(rss(pid)))
        meshDown(single)

        let star = root + "/star"
        let hub = try await meshUp(star, ["--nodes", "\(hubPeers + 1)", "--topology", "star", "--no-mdns"])
        guard hub["complete"] == true else { throw Failure(description: "the star mesh did not connect fully") }
        let pids = hub["pids"]?.arrayValue?.compactMap { $0.intValue.map(Int32.init) } ?? []
        try await Task.sleep(for: .seconds(1))
        printRow("node RSS with \(hubPeers) peers (star hub), MiB", mebibytes(rss(pids.first ?? 0)))
        let leaves = pids.dropFirst().compactMap(rss)
        if !leaves.isEmpty { printRow("  leaf RSS (1 peer), mean, MiB", mebibytes(leaves.reduce(0, +) / leaves.count)) }
        printRow("  star of \(hubPeers + 1) up and wired, s", String(format: "%.2f", hub["totalSeconds"]?.doubleValue ?? .nan))
        meshDown(star)
    }

    /// `paymesh mesh up --json …`; returns its summary.
    private func meshUp(_ dir: String, _ arguments: [String]) async throws -> JSONValue {
        let (status, out) = try runPaymesh(["mesh", "up", "--dir", dir, "--json", "--timeout", "120"] + arguments)
        guard let line = out.split(separator: "\n").first(where: { $0.hasPrefix("{") }),
              let summary = try? JSONValue.parse(Array(line.utf8)) else {
            meshDown(dir)
            throw Failure(description: "mesh up \(arguments.joined(separator: " ")) failed (\(status)): \(out)")
        }
        return summary
    }

    private func meshDown(_ dir: String) {
        _ = try? runPaymesh(["mesh", "down", "--dir", dir])
    }

    /// Runs `paymesh arguments…` to completion; standard output and error together.
    private func runPaymesh(_ arguments: [String]) throws -> (Int32, String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: paymesh)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    /// Sequential `getinfo` calls over one console connection for `seconds`.
    private func consoleRoundTrips(socket: String) async throws -> (perSecond: Double, meanMicros: Double) {
        let seconds = self.seconds
        return try await ConsoleClient.withConnection(socketPath: socket) { client in
            for _ in 0..<200 { _ = try await client.call("getinfo") } // warm-up
            var calls = 0
            let start = nowNanos(), end = start + UInt64(seconds * 1e9)
            while nowNanos() < end {
                for _ in 0..<50 { _ = try await client.call("getinfo") }
                calls += 50
            }
            let elapsed = Double(nowNanos() - start) / 1e9
            return (Double(calls) / elapsed, elapsed / Double(calls) * 1e6)
        }
    }

    private func rss(_ pid: Int32) -> Int? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return kib * 1024
    }

    private func mebibytes(_ bytes: Int?) -> String {
        bytes.map { String(format: "%.1f", Double($0) / 1_048_576) } ?? "n/a"
    }
}
