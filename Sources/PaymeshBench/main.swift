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
default:
    print("usage: paymesh-bench wire|node [--seconds S] [--only handshakes|bulk|messages|memory (wire)]")
    exit(2)
}
