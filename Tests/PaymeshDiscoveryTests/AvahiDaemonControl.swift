import Foundation
import PaymeshTestSupport

/// Runs scripts/avahi/start.sh and stop.sh (loopback-only avahi-daemon) for the real-daemon tests.
enum AvahiDaemonControl {
    static let scripts = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/avahi")

    struct Result {
        let status: Int32
        let output: String
    }

    static func start() -> Result { run("start.sh") }
    static func stop() -> Result { run("stop.sh") }

    private static func run(_ script: String) -> Result {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [scripts.appendingPathComponent(script).path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do {
            try process.run()
        } catch {
            return Result(status: -1, output: "cannot run \(script): \(error)")
        }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
    }
}
