// libFuzzer entry point; the harness and its invariants are in FuzzHarness/NoiseResponderHarness.swift.
import FuzzHarness
import FuzzSupport

@_cdecl("FuzzNoiseResponder_main")
func main(_ argc: CInt, _ argv: FuzzArgv) -> CInt {
    runFuzzer(argc, argv) { data, size in
        do {
            _ = try NoiseResponderHarness.run(fuzzBytes(data, size))
        } catch {
            fatalError("FuzzNoiseResponder: \(error)")
        }
        return 0
    }
}
