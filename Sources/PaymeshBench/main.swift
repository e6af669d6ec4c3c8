import Foundation

// paymesh-bench: prints measured figures (never a pass/fail timing assertion).
//   swift run -c release paymesh-bench wire [--seconds S]
//   swift run -c release paymesh-bench node [--seconds S]   (needs the paymesh executable built alongside)
//   swift run -c release paymesh-bench gossip [--nodes N] [--messages M] [--latency MS]   (in-memory simulation)
//   swift run -c release paymesh-bench onion [--seconds S]
//   swift run -c release paymesh-bench fetch [--seconds S]   (needs the paymesh executable built alongside)
//   swift run -c release paymesh-bench fsync [--samples N] [--dir PATH]
//   swift run -c release paymesh-bench store [--samples N] [--gap-us G] [--sync full|normal] [--dir PATH]
//   swift run -c release paymesh-bench route [--nodes N] [--channels M] [--searches S] [--history H] [--seed X]
//   swift run -c release paymesh-bench routed [--seconds S] [--concurrency N] [--sync full|normal]   (needs paymesh built alongside)
let args = Array(CommandLine.arguments.dropFirst())
let command = args.first ?? "wire"
var seconds = 3.0
if let i = args.firstIndex(of: "--seconds"), i + 1 < args.count, let s = Double(args[i + 1]), s > 0 { seconds = s }
// `--only NAME` runs one measurement (handshakes, bulk, messages, memory), e.g. under a profiler.
var only: String?
if let i = args.firstIndex(of: "--only"), i + 1 < args.count { only = args[i + 1] }

switch command {
case "wire":
    try await WireBench(seconds: seconds, only: only).run()
case "node":
    do {
        try await NodeBench(seconds: seconds).run()
    } catch {
        print("paymesh-bench node: \(error)")
        exit(1)
    }
case "payments":
    // paymesh-bench payments [--seconds S] [--sync full|normal] [--channels N] [--history ROWS] [--memory-channels N] [--only paced]
    func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    try await PaymentsBench(seconds: seconds, sync: option("--sync") ?? "full", channels: option("--channels").flatMap(Int.init) ?? 100,
                            historyRows: option("--history").flatMap(Int.init) ?? 1_000_000,
                            memoryChannels: option("--memory-channels").flatMap(Int.init) ?? 1_000, only: only).run()
case "fetch":
    // paymesh-bench fetch [--seconds S]: paid requests/s through the HTTP 402 gateway vs unpaid, `paymesh fetch` latency
    do {
        try await FetchBench(seconds: seconds).run()
    } catch {
        print("paymesh-bench fetch: \(error)")
        exit(1)
    }
case "onion":
    // paymesh-bench onion [--seconds S]: build / peel / failure attribution, µs per operation
    try OnionBench(seconds: seconds).run()
case "route":
    // paymesh-bench route [--nodes N] [--channels M] [--searches S] [--history H] [--seed X]: path search p50 / p99
    func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    var bench = RouteBench()
    if let v = option("--nodes").flatMap(Int.init), v > 1 { bench.nodes = v }
    if let v = option("--channels").flatMap(Int.init), v > 0 { bench.channels = v }
    if let v = option("--searches").flatMap(Int.init), v > 0 { bench.searches = v }
    if let v = option("--history").flatMap(Int.init), v >= 0 { bench.history = v }
    if let v = option("--seed").flatMap(UInt64.init) { bench.seed = v }
    try bench.run()
case "routed":
    // paymesh-bench routed [--seconds S] [--concurrency N] [--sync full|normal]: 3-hop payments over real processes
    func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    var bench = RoutedBench(seconds: seconds)
    if let v = option("--concurrency").flatMap(Int.init), v > 0 { bench.concurrency = v }
    if let v = option("--sync") { bench.sync = v }
    do {
        try await bench.run()
    } catch {
        print("paymesh-bench routed: \(error)")
        exit(1)
    }
case "soak":
    // paymesh-bench soak [--seconds-per-attack S] [--rate R] [--fd-limit N] [--stalled N] [--fill-peers N]
    //                    [--recover S] [--rss-cap-mb MB] [--only phase,phase] [--keep]
    func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    var o = SoakBench.Options()
    if let v = option("--seconds-per-attack").flatMap(Double.init), v > 0 { o.secondsPerAttack = v }
    if let v = option("--rate").flatMap(Int.init), v > 0 { o.rate = v }
    if let v = option("--fd-limit").flatMap(Int.init), v > 0 { o.fdLimit = v }
    if let v = option("--stalled").flatMap(Int.init), v >= 0 { o.stalled = v }
    if let v = option("--fill-peers").flatMap(Int.init), v >= 0 { o.fillPeers = v }
    if let v = option("--recover").flatMap(Double.init), v >= 0 { o.recoverSeconds = v }
    if let v = option("--rss-cap-mb").flatMap(Int.init), v > 0 { o.rssCapMB = v }
    if let v = option("--only") { o.only = Set(v.split(separator: ",").map(String.init)) }
    o.keep = args.contains("--keep")
    do {
        try await SoakBench(options: o).run()
    } catch {
        print("paymesh-bench soak: \(error)")
        exit(1)
    }
case "fsync":
    // paymesh-bench fsync [--samples N] [--dir PATH]: the disk's durable-write floor (one sync, two in series)
    func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    var bench = DiskBench()
    if let v = option("--samples").flatMap(Int.init), v > 0 { bench.samples = v }
    if let v = option("--dir") { bench.directory = v }
    try bench.run()
case "store":
    // paymesh-bench store [--samples N] [--gap-us G] [--sync full|normal] [--dir PATH]: one voucher's durable write, alone
    func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    var bench = StoreBench()
    if let v = option("--samples").flatMap(Int.init), v > 0 { bench.samples = v }
    if let v = option("--gap-us").flatMap(Int.init), v >= 0 { bench.gapMicros = v }
    if let v = option("--sync") { bench.sync = v }
    if let v = option("--dir") { bench.directory = v }
    try await bench.run()
case "gossip":
    // paymesh-bench gossip [--nodes N] [--messages M] [--latency MS] [--seed S]
    func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    var bench = GossipBench()
    if let v = option("--nodes").flatMap(Int.init), v > 1 { bench.nodes = v }
    if let v = option("--messages").flatMap(Int.init), v > 0 { bench.messages = v }
    if let v = option("--latency").flatMap(UInt64.init) { bench.latencyMillis = v }
    if let v = option("--seed").flatMap(UInt64.init) { bench.seed = v }
    try bench.run()
default:
    print("usage: paymesh-bench wire|node|payments|onion|route|routed|soak|gossip|fsync|store [--seconds S] [--only handshakes|bulk|messages|memory (wire)] [--sync full|normal (payments)]")
    exit(2)
}
