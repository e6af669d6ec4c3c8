import Foundation
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers
import PaymeshCrypto
import PaymeshMessages
import PaymeshMux
import PaymeshNode
import PaymeshTransport

/// `paymesh-bench wire`: the wire stack's figures over loopback TCP, all in one process on one
/// two-thread event loop group (client and server share the machine's two cores).
struct WireBench {
    let seconds: Double
    var only: String? = nil
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    func run() async throws {
        print("paymesh-bench wire — \(ProcessInfo.processInfo.activeProcessorCount) cores, \(seconds) s per measurement")
        // The transport names no protocol: offer the payments one, as a node's router does.
        let offer = (protocols: Set([PaymentsProtocol.id]), features: [PaymentsProtocol.feature])
        let server = try PaymeshEndpoint(configuration: .init(identity: .generate(), features: offer.features, protocols: offer.protocols), group: group)
        let client = try PaymeshEndpoint(configuration: .init(identity: .generate(), features: offer.features, protocols: offer.protocols), group: group)
        let address = try await server.listen()
        let accepter = Task { await serveAll(server) }

        func wanted(_ name: String) -> Bool { only == nil || only == name }
        if wanted("handshakes") {
            let hs = try await handshakesPerSecond(client: client, address: address)
            printRow("handshakes/s (loopback TCP, XX + proofs)", formatRate(hs), "≥ 1,500/s")
        }
        if wanted("bulk") {
            let raw = try rawTCPThroughput(group: group, seconds: seconds)
            let bulk = try await bulkThroughput(client: client, address: address)
            printRow("raw loopback TCP, MB/s (baseline)", formatRate(raw))
            printRow("one stream through Noise+yamux, MB/s", formatRate(bulk), "≥ 400 MB/s")
            printRow("  ratio to raw TCP", String(format: "%.2f", bulk / raw))
        }
        if wanted("messages") {
            let (msgs, frameSize) = try await smallMessagesPerSecond(client: client, address: address)
            printRow("\(frameSize)-byte messages/s (framed, whole stack)", formatRate(msgs), "≥ 200,000/s")
        }
        if wanted("memory") {
            let perConnection = try await memoryPerIdleConnection(client: client, address: address, count: 500)
            printRow("memory per idle connection, KiB (per end)", String(format: "%.1f", perConnection / 1024))
        }

        accepter.cancel()
        await server.shutdown()
        await client.shutdown()
        try await group.shutdownGracefully()
    }

    /// Accepts connections and echoes nothing: counts bytes or messages per protocol use.
    private func serveAll(_ server: PaymeshEndpoint) async {
        await withDiscardingTaskGroup { group in
            for await connection in server.inboundConnections {
                group.addTask {
                    await withDiscardingTaskGroup { streams in
                        for await stream in connection.inboundStreams {
                            streams.addTask { await Sink.shared.drain(stream) }
                        }
                    }
                }
            }
        }
    }

    private func handshakesPerSecond(client: PaymeshEndpoint, address: SocketAddress) async throws -> Double {
        let done = ManagedAtomicCounter()
        let deadline = nowNanos() + UInt64(seconds * 1e9)
        let start = nowNanos()
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for _ in 0..<32 {
                tasks.addTask {
                    while nowNanos() < deadline {
                        let c = try await client.connect(to: address)
                        done.increment()
                        await c.close()
                    }
                }
            }
            try await tasks.waitForAll()
        }
        return Double(done.value) / (Double(nowNanos() - start) / 1e9)
    }

    private func bulkThroughput(client: PaymeshEndpoint, address: SocketAddress) async throws -> Double {
        let connection = try await client.connect(to: address)
        let stream = try await connection.openStream(PaymentsProtocol.id)
        var chunk = ByteBufferAllocator().buffer(capacity: 65_536)
        chunk.writeRepeatingByte(0x5a, count: 65_536)
        // Raw bytes on a payments stream are fine for the sink (it counts bytes, not messages).
        Sink.shared.reset()
        let end = nowNanos() + UInt64((seconds + 0.2) * 1e9)
        let writer = Task {
            while nowNanos() < end { try await stream.write(chunk) }
        }
        let rate = try await measureRate { Sink.shared.bytes }
        try await writer.value
        await connection.close()
        return rate / 1e6
    }

    /// 64-byte frames (4-byte length + msgpack ERROR envelope), encoded by the sender and decoded
    /// into typed messages by the receiver.
    private func smallMessagesPerSecond(client: PaymeshEndpoint, address: SocketAddress) async throws -> (Double, Int) {
        let connection = try await client.connect(to: address)
        let stream = try await connection.openStream(PaymentsProtocol.id)
        let codec = PaymentStreamCodec()
        // Pad the text so that the whole frame is exactly 64 bytes.
        var text = ""
        var message: Message
        var probe = ByteBuffer()
        repeat {
            text += "x"
            message = .error(try ErrorMessage(code: PaymeshErrorCode(rawValue: 1504), message: text))
            probe.clear()
            try codec.write(message, into: &probe)
        } while probe.readableBytes < 64
        let frameSize = probe.readableBytes
        Sink.shared.reset()
        let batch = 256
        let end = nowNanos() + UInt64((seconds + 0.2) * 1e9)
        let writer = Task {
            var buffer = ByteBufferAllocator().buffer(capacity: batch * frameSize)
            while nowNanos() < end {
                buffer.clear()
                for _ in 0..<batch { try codec.write(message, into: &buffer) }
                try await stream.write(buffer)
            }
        }
        let rate = try await measureRate { Sink.shared.messages }
        try await writer.value
        await connection.close()
        return (rate, frameSize)
    }

    /// After a 0.2 s warm-up, the growth of `counter` per second over the measurement window.
    private func measureRate(_ counter: () -> Int) async throws -> Double {
        try await Task.sleep(nanoseconds: 200_000_000)
        let v0 = counter(), t0 = nowNanos()
        try await Task.sleep(nanoseconds: UInt64(seconds * 1e9))
        let v1 = counter(), t1 = nowNanos()
        return Double(v1 - v0) / (Double(t1 - t0) / 1e9)
    }

    /// Resident memory added by `count` idle connections, divided by 2·count (both ends of each
    /// connection live in this process).
    private func memoryPerIdleConnection(client: PaymeshEndpoint, address: SocketAddress, count: Int) async throws -> Double {
        // Warm the allocator with one round so that steady-state pools are not counted.
        var warm: [PaymeshConnection] = []
        for _ in 0..<50 { warm.append(try await client.connect(to: address)) }
        for c in warm { await c.close() }
        try await Task.sleep(nanoseconds: 300_000_000)
        let before = residentBytes()
        var connections: [PaymeshConnection] = []
        for _ in 0..<count { connections.append(try await client.connect(to: address)) }
        try await Task.sleep(nanoseconds: 500_000_000)
        let after = residentBytes()
        for c in connections { await c.close() }
        return Double(after - before) / Double(2 * count)
    }
}

/// Counts what arrives on the server's streams; decodes payment frames into typed messages.
final class Sink: @unchecked Sendable {
    static let shared = Sink()
    private let lock = NIOLock()
    private var _bytes = 0
    private var _messages = 0

    func reset() { lock.withLock { _bytes = 0; _messages = 0 } }
    var bytes: Int { lock.withLock { _bytes } }
    var messages: Int { lock.withLock { _messages } }

    func drain(_ stream: PaymeshStream) async {
        var codec = PaymentStreamCodec()
        var decodeMessages = true
        do {
            for try await chunk in stream.inbound {
                var n = 0
                if decodeMessages {
                    codec.feed(chunk)
                    do {
                        while try codec.nextMessage() != nil { n += 1 }
                    } catch {
                        decodeMessages = false // raw bulk bytes, not frames: just count bytes
                    }
                }
                let bytes = chunk.readableBytes, count = n
                lock.withLock { _bytes += bytes; _messages += count }
            }
        } catch {}
    }
}

/// A lock-protected counter (the bench's tasks run on several threads).
final class ManagedAtomicCounter: @unchecked Sendable {
    private let lock = NIOLock()
    private var count = 0
    func increment() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
