// libFuzzer entry point; the harness and its invariants are in FuzzHarness/MsgpackHarness.swift.
import FuzzHarness
import FuzzSupport

@_cdecl("FuzzMsgpack_main")
func main(_ argc: CInt, _ argv: FuzzArgv) -> CInt {
    runFuzzer(argc, argv) { data, size in
        do {
            _ = try MsgpackHarness.run(fuzzBytes(data, size))
        } catch {
            fatalError("FuzzMsgpack: \(error)")
        }
        return 0
    }
}
