// libFuzzer entry point; the harness and its invariants are in FuzzHarness/MessageDecoderHarness.swift.
import FuzzHarness
import FuzzSupport

@_cdecl("FuzzMessageDecoder_main")
func main(_ argc: CInt, _ argv: FuzzArgv) -> CInt {
    runFuzzer(argc, argv) { data, size in
        do {
            _ = try MessageDecoderHarness.run(fuzzBytes(data, size))
        } catch {
            fatalError("FuzzMessageDecoder: \(error)")
        }
        return 0
    }
}
