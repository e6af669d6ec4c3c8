// libFuzzer entry point; the harness and its invariants are in FuzzHarness/YamuxSessionHarness.swift.
import FuzzHarness
import FuzzSupport

@_cdecl("FuzzYamuxSession_main")
func main(_ argc: CInt, _ argv: FuzzArgv) -> CInt {
    runFuzzer(argc, argv) { data, size in
        do {
            _ = try YamuxSessionHarness.run(fuzzBytes(data, size))
        } catch {
            fatalError("FuzzYamuxSession: \(error)")
        }
        return 0
    }
}
