// libFuzzer entry point; the harness and its invariants are in FuzzHarness/CloseSequenceHarness.swift.
import FuzzHarness
import FuzzSupport

@_cdecl("FuzzCloseSequence_main")
func main(_ argc: CInt, _ argv: FuzzArgv) -> CInt {
    runFuzzer(argc, argv) { data, size in
        do {
            _ = try CloseSequenceHarness.run(fuzzBytes(data, size))
        } catch {
            fatalError("FuzzCloseSequence: \(error)")
        }
        return 0
    }
}
