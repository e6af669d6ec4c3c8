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
default:
    print("usage: paymesh-bench wire [--seconds S]")
    exit(2)
}
