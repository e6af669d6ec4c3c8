import Foundation
import PaymeshConsole
import PaymeshStore
#if canImport(Glibc)
import Glibc
#endif

/// `paymesh-bench routed`: payments over 3 hops between real `paymesh start` processes on
/// loopback (issue 10): a line 0 → 1 → 2 → 3 with fees at nodes 1 and 2, learned by gossip. Prints
/// the latency of one `pay to=` (the console call: path search, journal, HTLCs at every hop, the
/// preimage back) as p50 / p99 over sequential payments, then routed payments per second with
/// `--concurrency` payments in flight at once.
struct RoutedBench {
    var seconds = 3.0
    var concurrency = 16
    /// `full` (the default: every write synced) or `normal` (`PAYMESH_SYNC=normal`).
    var sync = "full"

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let paymesh: String = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("paymesh").path
    }()

    /// One started `paymesh start` process.
    final class Node: @unchecked Sendable {
        let process = Process()
        var id = ""
        var listen = ""
        let socket: String
        init(socket: String) { self.socket = socket }
        func call(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
            try await ConsoleClient.withConnection(socketPath: socket) { try await $0.call(method, params) }
        }
        func stop() {
            guard process.isRunning else { return }
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
        }
    }

    func run() async throws {
        guard FileManager.default.isExecutableFile(atPath: paymesh) else {
            throw Failure(description: "no paymesh executable next to paymesh-bench (\(paymesh)); build it: swift build -c release --product paymesh")
        }
        let root = "/tmp/pmroute-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        // TEMPORARY (latency study): PAYMESH_TRACE keeps the nodes' logs with their trace marks.
        let trace = ProcessInfo.processInfo.environment["PAYMESH_TRACE"] != nil || ProcessInfo.processInfo.environment["PAYMESH_TRACE_KEEP"] != nil
        if trace { print("trace logs in \(root)") }
        defer { if !trace { try? FileManager.default.removeItem(atPath: root) } }
        var nodes: [Node] = []
        defer { for n in nodes { n.stop() } }
        for i in 0..<4 { nodes.append(try await start(root + "/n\(i)")) }
        for i in 0..<3 {
            _ = try await nodes[i].call("connect", ["address": .string(nodes[i + 1].listen)])
            _ = try await nodes[i].call("ledger.fund", ["asset": "USDC", "amount": "1000000000000"])
            _ = try await nodes[i].call("channel.open", ["peer": .string(nodes[i + 1].id), "asset": "USDC", "deposit": "100000000000"])
        }
        let payee = nodes[3].id
        let known = nowNanos()
        while true {
            let found = try? await nodes[0].call("route.find", ["to": .string(payee), "amount": "1000", "asset": "USDC"])
            // A route needs every hop's node announcement too (its onion key).
            let announced = Set((try? await nodes[0].call("graph.nodes"))?["nodes"]?.arrayValue?.compactMap { $0["id"]?.stringValue?.lowercased() } ?? [])
            if (found?["routes"]?.arrayValue?.first?["hops"]?.arrayValue?.count ?? 0) == 3,
               nodes.dropFirst().allSatisfy({ announced.contains($0.id.lowercased()) }) { break }
            guard nowNanos() - known < 60_000_000_000 else { throw Failure(description: "node 0 found no 3-hop route within 60 s") }
            try await Task.sleep(for: .milliseconds(50))
        }
        print("paymesh-bench routed — \(ProcessInfo.processInfo.activeProcessorCount) cores, 4 \(paymesh) processes, line 0→1→2→3, sync \(sync)")
        printRow("route known by gossip after the opens, s", String(format: "%.2f", Double(nowNanos() - known) / 1e9))

        // Latency: one payment at a time over one console connection.
        let seconds = self.seconds
        let latencies: [Double] = try await ConsoleClient.withConnection(socketPath: nodes[0].socket) { client in
            var samples: [Double] = []
            for _ in 0..<20 { try await Self.pay(client, payee) } // warm-up
            let end = nowNanos() + UInt64(seconds * 1e9)
            while nowNanos() < end {
                let t = nowNanos()
                try await Self.pay(client, payee)
                samples.append(Double(nowNanos() - t) / 1e6)
            }
            return samples.sorted()
        }
        printRow("3-hop payment latency p50, ms", String(format: "%.2f", latencies[latencies.count / 2]), "≤ 5")
        printRow("3-hop payment latency p99, ms", String(format: "%.2f", latencies[min(latencies.count - 1, latencies.count * 99 / 100)]))
        printRow("  (sequential payments measured)", "\(latencies.count)")

        // Throughput: `concurrency` connections, each paying one after the other.
        let start = nowNanos(), end = start + UInt64(seconds * 1e9), socket = nodes[0].socket
        let paid = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    try await ConsoleClient.withConnection(socketPath: socket) { client in
                        var n = 0
                        while nowNanos() < end {
                            try await Self.pay(client, payee)
                            n += 1
                        }
                        return n
                    }
                }
            }
            var total = 0
            for try await n in group { total += n }
            return total
        }
        let elapsed = Double(nowNanos() - start) / 1e9
        printRow("routed payments/s, \(concurrency) in flight", formatRate(Double(paid) / elapsed))
    }

    /// One `pay to=` of 1,000 atomic units; anything but success stops the benchmark.
    static func pay(_ client: ConsoleClient, _ payee: String) async throws {
        LatencyTrace.mark("client.call")
        let r = try await client.call("pay", ["to": .string(payee), "amount": "1000", "asset": "USDC"])
        LatencyTrace.mark("client.answer")
        guard r["status"] == "succeeded" else { throw Failure(description: "payment did not succeed: \(r)") }
    }

    private func start(_ dir: String) async throws -> Node {
        let node = Node(socket: dir + "/console.sock")
        let log = dir + ".log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        node.process.executableURL = URL(fileURLWithPath: paymesh)
        node.process.arguments = ["start", "--data-dir", dir, "--listen", "127.0.0.1:0", "--no-mdns", "--asset", "USDC:6",
                                  "--gossip-stale", "20", "--fee-base", "2", "--fee-ppm", "1000", "--log-level", "warning"]
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("PAYMESH_") && !key.hasPrefix("PAYMESH_TRACE") { environment[key] = nil }
        if sync == "normal" { environment["PAYMESH_SYNC"] = "normal" }
        node.process.environment = environment
        node.process.standardOutput = handle
        node.process.standardError = handle
        node.process.standardInput = FileHandle.nullDevice
        try node.process.run()
        try handle.close()
        let deadline = nowNanos() + 60_000_000_000
        while nowNanos() < deadline {
            let text = FileManager.default.contents(atPath: log).map { String(decoding: $0, as: UTF8.self) } ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("paymesh ready ") }) {
                for word in line.split(separator: " ") {
                    if word.hasPrefix("id=") { node.id = String(word.dropFirst(3)) }
                    if word.hasPrefix("listen=") { node.listen = String(word.dropFirst(7)) }
                }
                return node
            }
            guard node.process.isRunning else { throw Failure(description: "node exited: \(text)") }
            try await Task.sleep(for: .milliseconds(20))
        }
        node.stop()
        throw Failure(description: "node \(dir) not ready within 60 s")
    }
}
