// libFuzzer entry point; the harness and its invariants are in FuzzHarness/GossipRouterHarness.swift.
import FuzzHarness
import FuzzSupport

@_cdecl("FuzzGossipRouter_main")
func main(_ argc: CInt, _ argv: FuzzArgv) -> CInt {
    runFuzzer(argc, argv) { data, size in
        do {
            _ = try GossipRouterHarness.run(fuzzBytes(data, size))
        } catch {
            fatalError("FuzzGossipRouter: \(error)")
        }
        return 0
    }
}
