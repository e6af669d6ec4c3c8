import Foundation

// paymesh-bench: prints measured figures (never a pass/fail timing assertion).
//   swift run -c release paymesh-bench wire [--seconds S]
//   swift run -c release paymesh-bench node [--seconds S]   (needs the paymesh executable built alongside)
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
    // paymesh-bench payments [--seconds S] [--sync full|normal] [--channels N] [--history ROWS] [--memory-channels N]
    func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    try await PaymentsBench(seconds: seconds, sync: option("--sync") ?? "full", channels: option("--channels").flatMap(Int.init) ?? 100,
                            historyRows: option("--history").flatMap(Int.init) ?? 1_000_000,
                            memoryChannels: option("--memory-channels").flatMap(Int.init) ?? 1_000).run()
default:
    print("usage: paymesh-bench wire|node|payments [--seconds S] [--only handshakes|bulk|messages|memory (wire)] [--sync full|normal (payments)]")
    exit(2)
}
