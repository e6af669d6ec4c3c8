// paymesh-store-crashtest: the child process of PaymeshStoreTests' kill -9 test, and the store
// benchmarks.
//   paymesh-store-crashtest write <db> <channels>
//   paymesh-store-crashtest bench <dir> [seconds-per-run]
let arguments = CommandLine.arguments
switch arguments.count > 1 ? arguments[1] : "" {
case "write" where arguments.count == 4:
    guard let channels = Int(arguments[3]), channels > 0 else { fail("channels must be a positive integer") }
    await runCrashWriter(path: arguments[2], channels: channels)
case "bench" where arguments.count >= 3:
    await runBench(directory: arguments[2], seconds: arguments.count > 3 ? Double(arguments[3]) ?? 3 : 3)
default:
    fail("usage: paymesh-store-crashtest write <db> <channels> | bench <dir> [seconds]")
}
