import Foundation
import PaymeshTestSupport
import PaymeshConsole
import PaymeshNode

/// A `paymesh start` child process on loopback with its own data directory and a fixed port, so
/// that it can be killed and restarted as the same node at the same address.
final class PaymentNodeProcess: @unchecked Sendable {
    let directory: String
    let port: Int
    let peers: [Int]
    /// More `paymesh start` arguments (e.g. `--http 127.0.0.1:<port>`).
    let extraArguments: [String]
    private let lock = NSLock()
    private var process: ChildProcess?
    private var ready = false
    private var readyLine = ""

    init(directory: String = temporaryDirectory(), port: Int = freePort(), peers: [Int] = [], extraArguments: [String] = []) {
        self.directory = directory
        self.port = port
        self.peers = peers
        self.extraArguments = extraArguments
    }

    var socket: String { directory + "/console.sock" }
    var storePath: String { directory + "/channels.sqlite" }

    /// `paymesh` sits next to the test bundle in the build directory.
    static func executable() throws -> URL {
        var candidates: [URL] = []
        if let exe = Bundle.main.executableURL { candidates.append(exe.deletingLastPathComponent()) }
        candidates.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        candidates.append(root.appendingPathComponent(".build/debug"))
        for dir in candidates {
            for base in [dir, dir.deletingLastPathComponent()] {
                let url = base.appendingPathComponent("paymesh")
                if FileManager.default.isExecutableFile(atPath: url.path) { return url }
            }
        }
        throw ProcessFailure("paymesh not found near \(candidates.map(\.path)); run swift build --build-tests")
    }

    struct ProcessFailure: Error, CustomStringConvertible {
        let description: String
        init(_ d: String) { description = d }
    }

    /// Starts the node and waits for its ready line; returns the node id.
    @discardableResult
    func start(environment: [String: String] = [:]) async throws -> String {
        let p = ChildProcess()
        p.executableURL = try Self.executable()
        p.arguments = ["start", "--data-dir", directory, "--listen", "127.0.0.1:\(port)", "--no-mdns", "--log-level", "info",
                       "--log-file", directory + "/node.log"] + peers.flatMap { ["--peer", "127.0.0.1:\($0)"] } + extraArguments
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { _, new in new }
        let out = Pipe()
        p.standardOutput = out
        // Standard error kept in the data directory: why a start failed goes into the thrown error.
        let errorPath = directory + "/stderr.log"
        _ = FileManager.default.createFile(atPath: errorPath, contents: nil)
        let errorFile = try FileHandle(forWritingTo: URL(fileURLWithPath: errorPath))
        defer { try? errorFile.close() }
        p.standardError = errorFile
        lock.withLock { ready = false; readyLine = "" }
        try p.run()
        lock.withLock { process = p }
        let handle = out.fileHandleForReading
        Thread { [self] in
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                buffer.append(chunk)
                if let line = String(data: buffer, encoding: .utf8), line.contains("paymesh ready") {
                    lock.withLock { ready = true; readyLine = line }
                }
            }
        }.start()
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if let line = lock.withLock({ ready ? readyLine : nil }) {
                guard let id = line.split(separator: " ").first(where: { $0.hasPrefix("id=") }) else { break }
                return String(id.dropFirst(3))
            }
            if !p.isRunning {
                let said = (FileManager.default.contents(atPath: errorPath).map { String(decoding: $0.suffix(1_000), as: UTF8.self) } ?? "")
                throw ProcessFailure("paymesh exited with \(p.terminationStatus) before it was ready: \(said)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        throw ProcessFailure("paymesh was not ready within 30 s")
    }

    func kill9() {
        guard let p = lock.withLock({ process }) else { return }
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        lock.withLock { process = nil }
    }

    func stop() {
        guard let p = lock.withLock({ process }) else { return }
        p.terminate()
        p.waitUntilExit()
        lock.withLock { process = nil }
    }

    func call(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
        try await ConsoleClient.withConnection(socketPath: socket) { try await $0.call(method, params) }
    }
}

/// A TCP port that was free a moment ago on 127.0.0.1, below the kernel's ephemeral range
/// (/proc/sys/net/ipv4/ip_local_port_range, 32768–60999 here): a node restarted on it after a
/// SIGKILL must find it free again, and no `bind` to port 0 or outgoing connection of the other
/// tests of a parallel run is ever given a port outside that range (one once took a killed payee's
/// port between its death and its restart, which then exited with "Address already in use").
func freePort() -> Int {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<1_000 {
        let port = Int.random(in: 20_000..<32_000, using: &generator)
        if canBind(port) { return port }
    }
    preconditionFailure("no free TCP port in 20000–31999 on 127.0.0.1")
}

private func canBind(_ port: Int) -> Bool {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { return false }
    defer { close(fd) }
    var addr = sockaddr_in()
    addr.sin_family = sa_family_t(AF_INET)
    addr.sin_port = in_port_t(UInt16(port).bigEndian)
    addr.sin_addr.s_addr = inet_addr("127.0.0.1")
    let len = socklen_t(MemoryLayout<sockaddr_in>.size)
    return withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, len) } } == 0
}
