// libFuzzer entry point; the harness and its invariants are in FuzzHarness/OnionPeelHarness.swift.
import FuzzHarness
import FuzzSupport

@_cdecl("FuzzOnionPeel_main")
func main(_ argc: CInt, _ argv: FuzzArgv) -> CInt {
    runFuzzer(argc, argv) { data, size in
        do {
            _ = try OnionPeelHarness.run(fuzzBytes(data, size))
        } catch {
            fatalError("FuzzOnionPeel: \(error)")
        }
        return 0
    }
}
