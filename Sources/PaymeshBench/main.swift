import Foundation

// paymesh-bench: prints measured figures (never a pass/fail timing assertion).
//   swift run -c release paymesh-bench wire [--seconds S]
let args = Array(CommandLine.arguments.dropFirst())
let command = args.first ?? "wire"
var seconds = 3.0
if let i = args.firstIndex(of: "--seconds"), i + 1 < args.count, let s = Double(args[i + 1]), s > 0 { seconds = s }

switch command {
case "wire":
    try await WireBench(seconds: seconds).run()
case "payments":
    // paymesh-bench payments [--seconds S] [--sync full|normal] [--channels N] [--history ROWS]
    func option(_ name: String) -> String? { args.firstIndex(of: name).flatMap { $0 + 1 < args.count ? args[$0 + 1] : nil } }
    try await PaymentsBench(seconds: seconds, sync: option("--sync") ?? "full", channels: option("--channels").flatMap(Int.init) ?? 100,
                            historyRows: option("--history").flatMap(Int.init) ?? 1_000_000,
                            memoryChannels: option("--memory-channels").flatMap(Int.init) ?? 1_000).run()
default:
    print("usage: paymesh-bench wire|payments [--seconds S] [--sync full|normal] [--channels N] [--history ROWS]")
    exit(2)
}
