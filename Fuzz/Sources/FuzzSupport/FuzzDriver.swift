// SwiftPM renames an executable target's entry point to `<Target>_main` and aliases `main` to it,
// so libFuzzer's own `main` is never pulled in. Each fuzz target therefore defines
// `@_cdecl("<Target>_main")` and hands its body to `runFuzzer`, which calls libFuzzer's driver.

public typealias FuzzArgv = UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?

@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<FuzzArgv>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
) -> CInt

/// Runs libFuzzer with `body` as the test function. The body must never crash on any input.
public func runFuzzer(_ argc: CInt, _ argv: FuzzArgv, _ body: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
    var argc = argc
    var argv = argv
    return LLVMFuzzerRunDriver(&argc, &argv, body)
}

/// The fuzzer's input as a Swift array.
public func fuzzBytes(_ data: UnsafePointer<UInt8>?, _ size: Int) -> [UInt8] {
    guard let data, size > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: data, count: size))
}
