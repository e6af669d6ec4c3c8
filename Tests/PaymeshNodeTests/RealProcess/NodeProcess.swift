import Foundation
import PaymeshTestSupport
import PaymeshConsole
import PaymeshNode
#if canImport(Glibc)
import Glibc
#endif

/// The `paymesh` executable built next to the test bundle (`.build/<config>/paymesh`), or `PAYMESH_BINARY`.
enum PaymeshBinary {
    static let directory: URL = {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
        // The bundle may be a directory (…/PaymeshPackageTests.xctest/…) on some set-ups.
        while !FileManager.default.isExecutableFile(atPath: dir.appendingPathComponent("paymesh").path), dir.path != "/" {
            dir.deleteLastPathComponent()
        }
        return dir
    }()

    /// `PAYMESH_BINARY` overrides it (benchmarks run the release build: `.build-release/release/paymesh`).
    static var path: String {
        ProcessInfo.processInfo.environment["PAYMESH_BINARY"] ?? directory.appendingPathComponent("paymesh").path
    }

    static var exists: Bool { FileManager.default.isExecutableFile(atPath: path) }

    struct Output {
        let status: Int32
        let stdout: String
        let stderr: String
    }

    /// Runs `paymesh arguments…` to completion (e.g. `mesh up`), with a hard timeout after
    /// which it is killed. Its output goes to temporary files, not pipes: a node that `mesh up`
    /// leaves running inherits them, and a read to the end of a pipe would then never return (a
    /// blocked read on the cooperative pool stalled every test of the run).
    static func run(_ arguments: [String], timeout: Double = 120) async throws -> Output {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        let base = NSTemporaryDirectory() + "/pmrun-\(UUID().uuidString.prefix(8))"
        let outPath = base + ".out", errPath = base + ".err"
        defer { try? FileManager.default.removeItem(atPath: outPath); try? FileManager.default.removeItem(atPath: errPath) }
        guard FileManager.default.createFile(atPath: outPath, contents: nil), FileManager.default.createFile(atPath: errPath, contents: nil),
              let out = FileHandle(forWritingAtPath: outPath), let err = FileHandle(forWritingAtPath: errPath) else {
            throw CocoaError(.fileWriteUnknown)
        }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try? out.close()
        try? err.close()
        let deadline = ContinuousClock.now + .seconds(timeout)
        while process.isRunning, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        while process.isRunning { try? await Task.sleep(for: .milliseconds(5)) }
        let stdout = FileManager.default.contents(atPath: outPath) ?? Data(), stderr = FileManager.default.contents(atPath: errPath) ?? Data()
        return Output(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
    }
}

/// One `paymesh start` process, its output in `<dataDir>.log`. Killed with SIGKILL by
/// `kill()` (which teardown always calls) if still running.
final class NodeProcess: @unchecked Sendable {
    let dataDir: String
    let arguments: [String]
    private let process = ChildProcess()
    private(set) var id = ""
    private(set) var listen = PeerEndpoint(host: "127.0.0.1", port: 0)
    var log: String { dataDir + ".log" }
    var socket: String { dataDir + "/console.sock" }
    var pid: Int32 { process.processIdentifier }
    var isRunning: Bool { process.isRunning }

    struct NotReady: Error, CustomStringConvertible {
        let description: String
    }

    /// Starts `paymesh start --data-dir <dataDir> --listen 127.0.0.1:0 <extra>` and waits for
    /// its ready line.
    init(dataDir: String, extra: [String] = [], readyTimeout: Double = 20) async throws {
        self.dataDir = dataDir
        arguments = ["start", "--data-dir", dataDir, "--listen", "127.0.0.1:0"] + extra
        guard FileManager.default.createFile(atPath: dataDir + ".log", contents: nil) else {
            throw NotReady(description: "cannot create \(dataDir).log")
        }
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: dataDir + ".log"))
        handle.seekToEndOfFile()
        process.executableURL = URL(fileURLWithPath: PaymeshBinary.path)
        process.arguments = arguments
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        var environment = ProcessInfo.processInfo.environment
        for key in environment.keys where key.hasPrefix("PAYMESH_") { environment[key] = nil }
        process.environment = environment
        try process.run()
        try handle.close()
        let deadline = ContinuousClock.now + .seconds(readyTimeout)
        while true {
            let text = logText
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("paymesh ready ") }) {
                for word in line.split(separator: " ") {
                    if word.hasPrefix("id=") { id = String(word.dropFirst(3)) }
                    if word.hasPrefix("listen="), let e = PeerEndpoint(String(word.dropFirst(7))) { listen = e }
                }
                return
            }
            guard process.isRunning else { throw NotReady(description: "node exited (\(process.terminationStatus)): \(text)") }
            guard ContinuousClock.now < deadline else {
                kill()
                throw NotReady(description: "node not ready after \(readyTimeout) s: \(text)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    var logText: String {
        FileManager.default.contents(atPath: log).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// SIGKILL and reap (nothing is cleaned up: what a crash leaves behind).
    func kill() {
        guard process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    /// SIGTERM, then SIGKILL after `seconds`; returns the exit status.
    @discardableResult
    func terminate(seconds: Double = 10) async -> Int32 {
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGTERM) }
        let deadline = ContinuousClock.now + .seconds(seconds)
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        kill()
        process.waitUntilExit()
        return process.terminationStatus
    }

    func call(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
        try await ConsoleClient.withConnection(socketPath: socket) { try await $0.call(method, params) }
    }

    /// Ids (lowercase) of the peers the node reports connected.
    func connectedPeers() async throws -> Set<String> {
        let peers = try await call("peers")["peers"]?.arrayValue ?? []
        return Set(peers.filter { $0["state"] == "connected" }.compactMap { $0["id"]?.stringValue?.lowercased() })
    }
}

/// Kills every process it was given, however the test ends (`defer { reaper.killAll() }`).
final class Reaper: @unchecked Sendable {
    private let lock = NSLock()
    private var nodes: [NodeProcess] = []
    private var directories: [String] = []

    func track(_ node: NodeProcess) -> NodeProcess {
        lock.withLock { nodes.append(node) }
        return node
    }

    /// A fresh short directory (Unix socket paths are limited to 108 bytes), removed at the end.
    func directory() -> String {
        let path = temporaryDirectory()
        lock.withLock { directories.append(path) }
        return path
    }

    /// A data directory path that does not exist yet (the node creates it, mode 0700).
    func nodeDirectory() -> String {
        directory() + "/node"
    }

    func killAll() {
        let (all, dirs) = lock.withLock { (nodes, directories) }
        for node in all { node.kill() }
        for dir in dirs {
            killProcesses(mentioning: dir)
            removeDirectory(dir)
        }
    }
}

/// Pids of running processes whose command line contains `text` (e.g. a mesh directory).
func processes(mentioning text: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
        guard pid != getpid(), let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline"), !data.isEmpty,
              let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")"), stat[stat.index(after: close)...].drop(while: { $0 == " " }).first != "Z" else { return false }
        return String(decoding: data.map { $0 == 0 ? 0x20 : $0 }, as: UTF8.self).contains(text)
    }
}

func killProcesses(mentioning text: String) {
    for pid in processes(mentioning: text) { kill(pid, SIGKILL) }
}

/// Runs scripts/avahi/start.sh or stop.sh (loopback-only avahi-daemon).
enum AvahiDaemon {
    static let scripts = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/avahi")

    @discardableResult
    static func start() -> (status: Int32, output: String) { run("start.sh") }
    @discardableResult
    static func stop() -> (status: Int32, output: String) { run("stop.sh") }

    private static func run(_ script: String) -> (status: Int32, output: String) {
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [scripts.appendingPathComponent(script).path]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        do { try process.run() } catch { return (-1, "cannot run \(script): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
