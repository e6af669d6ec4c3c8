// libFuzzer entry point; the harness and its invariants are in FuzzHarness/LengthPrefixFrameHarness.swift.
import FuzzHarness
import FuzzSupport

@_cdecl("FuzzLengthPrefixFrame_main")
func main(_ argc: CInt, _ argv: FuzzArgv) -> CInt {
    runFuzzer(argc, argv) { data, size in
        do {
            _ = try LengthPrefixFrameHarness.run(fuzzBytes(data, size))
        } catch {
            fatalError("FuzzLengthPrefixFrame: \(error)")
        }
        return 0
    }
}
