// libFuzzer entry point; the harness and its invariants are in FuzzHarness/YamuxFrameHarness.swift.
import FuzzHarness
import FuzzSupport

@_cdecl("FuzzYamuxFrame_main")
func main(_ argc: CInt, _ argv: FuzzArgv) -> CInt {
    runFuzzer(argc, argv) { data, size in
        do {
            _ = try YamuxFrameHarness.run(fuzzBytes(data, size))
        } catch {
            fatalError("FuzzYamuxFrame: \(error)")
        }
        return 0
    }
}
