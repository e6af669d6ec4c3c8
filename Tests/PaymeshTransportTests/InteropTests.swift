import Foundation
import NIOConcurrencyHelpers
import NIOCore
import PaymeshCrypto
import PaymeshMessages
import PaymeshTestSupport
import PaymeshTransport
import Testing

/// Interoperation with an independent Python peer written only from Specs/
/// (`scripts/interop/paymesh_peer.py`), over loopback TCP. Needs python3 on PATH with
/// noiseprotocol, eth-account and msgpack (scripts/test.sh installs them); without them the
/// tests FAIL, they do not skip.
@Suite("Interop with the Python peer (Specs/ only)", .serialized)
struct InteropTests {
    static let script = TestVectors.repositoryRoot.appendingPathComponent("scripts/interop/paymesh_peer.py").path
    static let messageVectors = TestVectors.repositoryRoot.appendingPathComponent("Specs/vectors/messages.json").path

    /// How many `valid[]` frames messages.json holds (the Python peer echoes each once).
    static func validVectorCount() throws -> Int {
        struct File: Decodable { struct Valid: Decodable {}; let valid: [Valid] }
        return try TestVectors.load(File.self, spec: "messages.json").valid.count
    }

    /// The Python peer's own codecs agree with every vector in Specs/vectors (messages, mux
    /// frames, the fixed-key handshake transcript), so the wire tests below exercise a peer that
    /// implements the spec, not one that merely mirrors Swift.
    @Test func pythonPeerPassesTheSpecVectors() async throws {
        try PythonPeer.requirePackages()
        let root = TestVectors.repositoryRoot.appendingPathComponent("Specs/vectors")
        let python = try PythonPeer(["selftest", "--vectors", Self.messageVectors,
                                     "--handshake-vector", root.appendingPathComponent("handshake.json").path,
                                     "--mux-vectors", root.appendingPathComponent("mux-frames.json").path])
        defer { python.kill() }
        let status = try await python.waitForExit(timeout: 90)
        #expect(status == 0, "python selftest exited \(status)\nstdout:\n\(python.stdout)\nstderr:\n\(python.stderr)")
        #expect(python.stdout.contains("handshake vector replayed, 0 mismatches"))
    }

    /// Python dials a Swift endpoint that echoes: handshake both ways authenticated, every valid
    /// message vector echoed byte for byte, ping, FIN both ways, GoAway.
    @Test func pythonDialsSwift() async throws {
        try PythonPeer.requirePackages()
        let serverKey = IdentityKey.generate()
        let server = try makeEndpoint(identity: serverKey)
        let address = try await server.listen()
        let port = try #require(address.port)
        let seen = ConnectionLog()
        let echo = echoRecording(server, into: seen)
        let python = try PythonPeer(["dial", "--host", "127.0.0.1", "--port", "\(port)",
                                     "--expect", serverKey.address.description, "--vectors", Self.messageVectors])
        defer { python.kill(); echo.cancel() }
        let status = try await python.waitForExit(timeout: 90)
        let out = python.stdout
        #expect(status == 0, "python dial exited \(status)\nstdout:\n\(out)\nstderr:\n\(python.stderr)")
        #expect(out.contains("echoed \(try Self.validVectorCount()) frames"), "stdout:\n\(out)")
        #expect(out.contains("ping 1 acknowledged"))
        #expect(out.contains("peer=\(serverKey.address.description)"))
        // The Swift side authenticated exactly one connection, from the Python identity.
        let pythonAddress = try #require(line(in: out, after: "address=").flatMap { EthereumAddress(string: $0) },
                                         "no address line in:\n\(out)")
        let connections = seen.connections
        #expect(connections.count == 1)
        let connection = try #require(connections.first)
        #expect(connection.peer.address == pythonAddress)
        #expect(connection.peer.features == ["payments/1"])
        try await withTimeout(10) { try await connection.closeFuture.get() }
        #expect(connection.peerSentGoAway, "Python's GoAway(0) was not seen")
        await server.shutdown()
    }

    /// A Swift endpoint dials the Python peer (listen mode), which echoes: all 13 message types
    /// encoded by Swift go out on a `.payments` stream and come back identical.
    @Test func swiftDialsPython() async throws {
        try PythonPeer.requirePackages()
        let python = try PythonPeer(["listen", "--host", "127.0.0.1", "--port", "0", "--print-address", "--timeout", "90"])
        defer { python.kill() }
        let ready = try #require(try await python.firstLine(containing: "listening", timeout: 60),
                                 "python listen printed no address; stderr:\n\(python.stderr)")
        let port = try #require(line(in: ready, after: "port=").flatMap { Int($0) })
        let pythonAddress = try #require(line(in: ready, after: "address=").flatMap { EthereumAddress(string: $0) })

        let examples = try allMessageExamples()
        #expect(examples.count == 13)
        var encoded = ByteBuffer()
        let codec = PaymentStreamCodec()
        for m in examples { try codec.write(m, into: &encoded) }
        let frames = encoded
        let sent = Array(frames.readableBytesView)

        let client = try makeEndpoint()
        try await withTimeout(30) {
            let c = try await client.connect(host: "127.0.0.1", port: port, expecting: pythonAddress)
            #expect(c.peer.address == pythonAddress)
            #expect(c.peer.features == ["payments/1"])
            let stream = try await c.openStream(.payments)
            try await stream.write(frames)
            stream.close()
            let back = try await readAll(stream)
            #expect(back == sent, "echo of \(sent.count) bytes came back as \(back.count) bytes")
            _ = try await c.ping()
            await c.close()
        }
        let status = try await python.waitForExit(timeout: 30)
        #expect(status == 0, "python listen exited \(status)\nstdout:\n\(python.stdout)\nstderr:\n\(python.stderr)")
        #expect(python.stderr.contains("13 valid messages"), "stderr:\n\(python.stderr)")
        await client.shutdown()
    }
}

/// The value after `key` up to the next space or newline.
private func line(in text: String, after key: String) -> String? {
    guard let r = text.range(of: key) else { return nil }
    return String(text[r.upperBound...].prefix { $0 != " " && $0 != "\n" })
}

final class ConnectionLog: @unchecked Sendable {
    private let lock = NIOLock()
    private var list: [PaymeshConnection] = []
    func add(_ c: PaymeshConnection) { lock.withLock { list.append(c) } }
    var connections: [PaymeshConnection] { lock.withLock { list } }
}

/// Like `serveEcho`, but records every inbound connection.
private func echoRecording(_ endpoint: PaymeshEndpoint, into log: ConnectionLog) -> Task<Void, Never> {
    Task {
        await withDiscardingTaskGroup { group in
            for await connection in endpoint.inboundConnections {
                log.add(connection)
                group.addTask {
                    await withDiscardingTaskGroup { streams in
                        for await stream in connection.inboundStreams {
                            streams.addTask {
                                do {
                                    for try await chunk in stream.inbound { try await stream.write(chunk) }
                                    stream.close()
                                } catch {}
                            }
                        }
                    }
                }
            }
        }
    }
}

/// `python3 scripts/interop/paymesh_peer.py ARGS` as a child process with captured output.
final class PythonPeer: @unchecked Sendable {
    private let process = ChildProcess()
    private let outPipe = Pipe(), errPipe = Pipe()
    private let lock = NIOLock()
    private var outData = Data(), errData = Data()

    /// Fails (does not skip) when python3 or its packages are missing.
    static func requirePackages() throws {
        let check = ChildProcess()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        check.arguments = ["python3", "-c", "import noise, eth_account, msgpack"]
        let err = Pipe()
        check.standardError = err
        check.standardOutput = FileHandle.nullDevice
        do { try check.run() } catch {
            throw InteropFailure("cannot run python3 from PATH (\(error)); install Python 3 and run scripts/test.sh")
        }
        check.waitUntilExit()
        if check.terminationStatus != 0 {
            let why = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            throw InteropFailure("""
                python3 lacks the interop packages (exit \(check.terminationStatus)): \(why)
                install them with: pip install noiseprotocol eth-account msgpack (scripts/test.sh does this)
                """)
        }
    }

    init(_ arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-u", InteropTests.script] + arguments
        process.standardOutput = outPipe
        process.standardError = errPipe
        outPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            if d.isEmpty { h.readabilityHandler = nil } else { self?.lock.withLock { self?.outData.append(d) } }
        }
        errPipe.fileHandleForReading.readabilityHandler = { [weak self] h in
            let d = h.availableData
            if d.isEmpty { h.readabilityHandler = nil } else { self?.lock.withLock { self?.errData.append(d) } }
        }
        try process.run()
    }

    var stdout: String { lock.withLock { String(decoding: outData, as: UTF8.self) } }
    var stderr: String { lock.withLock { String(decoding: errData, as: UTF8.self) } }

    /// The first complete stdout line containing `marker`, nil if the process ends first.
    func firstLine(containing marker: String, timeout: Double) async throws -> String? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let l = stdout.split(separator: "\n", omittingEmptySubsequences: false).dropLast().first(where: { $0.contains(marker) }) {
                return String(l)
            }
            if !process.isRunning { return nil }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        kill()
        throw InteropFailure("python printed no \"\(marker)\" line within \(timeout) s; stderr:\n\(stderr)")
    }

    /// Exit status; kills the process and throws when it runs past `timeout`.
    func waitForExit(timeout: Double) async throws -> Int32 {
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning {
            if Date() >= deadline {
                kill()
                throw InteropFailure("python peer still running after \(timeout) s, killed\nstdout:\n\(stdout)\nstderr:\n\(stderr)")
            }
            try await Task.sleep(nanoseconds: 50_000_000)
        }
        try await Task.sleep(nanoseconds: 100_000_000) // let the pipes drain
        if ProcessInfo.processInfo.environment["PAYMESH_INTEROP_VERBOSE"] != nil {
            print("python \(process.arguments?.dropFirst(3).first ?? ""):\n\(stdout)\(stderr)")
        }
        return process.terminationStatus
    }

    func kill() {
        if process.isRunning {
            process.terminate()
            let pid = process.processIdentifier
            DispatchQueue.global().asyncAfter(deadline: .now() + 2) { if self.process.isRunning { _ = Foundation.kill(pid, SIGKILL) } }
        }
    }
}

struct InteropFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
