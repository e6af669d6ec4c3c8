import Foundation
import PaymeshTestSupport
import Testing

/// The CLI must not crash when whoever reads its output has gone (EPIPE): `paymesh identity |
/// head -1`, or a script that read a node's ready line and closed the pipe.
@Suite struct ClosedPipeTests {
    @Test(.timeLimit(.minutes(1))) func identityIntoAClosedPipeExitsCleanly() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("paymesh-pipe-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: PaymeshBinary.path)
        process.arguments = ["identity", "--data-dir", directory]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try out.fileHandleForReading.close() // the reader is gone before the first write
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationReason == .exit, "killed by signal \(process.terminationStatus)")
        #expect(process.terminationStatus == 0)
        // The key was created all the same (the command did its work; only its output was lost).
        #expect(FileManager.default.fileExists(atPath: directory + "/identity.key"))
    }
}
