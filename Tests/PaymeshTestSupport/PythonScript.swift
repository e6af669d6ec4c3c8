import Foundation

/// A Python check of the repository (`scripts/…`) run to completion, as independent tooling that
/// reads what Swift produced or talks to a live node.
public struct PythonScriptResult: Sendable {
    public let status: Int32
    public let stdout: String
    public let stderr: String
}

/// Runs `python3 <repository>/<script> arguments…` on a thread of its own and awaits it, so that
/// no thread of Swift's cooperative pool (two on a 2-core machine) blocks while the script runs
/// and the nodes under test can keep answering it. Output goes to temporary files, not pipes: a
/// process the script leaves behind cannot hold a read open.
public func runPythonScript(_ script: String, _ arguments: [String]) async throws -> PythonScriptResult {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<PythonScriptResult, any Error>) in
        let thread = Thread {
            c.resume(with: Result {
                let directory = FileManager.default.temporaryDirectory
                let outURL = directory.appendingPathComponent("paymesh-py-\(UUID().uuidString).out")
                let errURL = directory.appendingPathComponent("paymesh-py-\(UUID().uuidString).err")
                defer {
                    try? FileManager.default.removeItem(at: outURL)
                    try? FileManager.default.removeItem(at: errURL)
                }
                FileManager.default.createFile(atPath: outURL.path, contents: nil)
                FileManager.default.createFile(atPath: errURL.path, contents: nil)
                let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
                let process = ChildProcess()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
                process.arguments = ["python3", TestVectors.repositoryRoot.appendingPathComponent(script).path] + arguments
                process.standardOutput = out
                process.standardError = err
                process.standardInput = FileHandle.nullDevice
                try process.run()
                process.waitUntilExit()
                try? out.close()
                try? err.close()
                let text = { (url: URL) in (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
                return PythonScriptResult(status: process.terminationStatus, stdout: text(outURL), stderr: text(errURL))
            })
        }
        thread.name = "python"
        thread.start()
    }
}
