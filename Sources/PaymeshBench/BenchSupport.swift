import Foundation
import NIOCore
import NIOPosix
import NIOConcurrencyHelpers

/// Monotonic nanoseconds.
@inline(__always) func nowNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

/// Resident set size of this process in bytes, read from /proc/self/statm.
func residentBytes() -> Int {
    guard let s = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
    let parts = s.split(separator: " ")
    guard parts.count > 1, let pages = Int(parts[1]) else { return 0 }
    return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
}

/// The `paymesh` executable built next to paymesh-bench (the node figures run real processes).
let siblingPaymesh: String = {
    let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: exe).deletingLastPathComponent().appendingPathComponent("paymesh").path
}()

/// Why a measurement could not run.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
}

/// Checks that `paymesh` is built next to paymesh-bench and makes a scratch directory `/tmp/<name>-<random>` for its nodes.
func paymeshScratchDirectory(_ name: String) throws -> String {
    guard FileManager.default.isExecutableFile(atPath: siblingPaymesh) else {
        throw BenchFailure(description: "no paymesh executable next to paymesh-bench (\(siblingPaymesh)); build it: swift build -c release --product paymesh")
    }
    let root = "/tmp/\(name)-\(UInt32.random(in: 0...UInt32.max))"
    try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    return root
}

func formatRate(_ value: Double) -> String {
    value >= 100 ? String(format: "%.0f", value) : String(format: "%.1f", value)
}

func printRow(_ name: String, _ value: String, _ target: String = "") {
    let pad = name.padding(toLength: 44, withPad: " ", startingAt: 0)
    print("\(pad) \(value)\(target.isEmpty ? "" : "   (target \(target))")")
}

/// Counts inbound bytes and discards them; used by the raw TCP baseline.
final class DiscardingCounter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    let counter: ByteCounter
    init(counter: ByteCounter) { self.counter = counter }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        counter.add(unwrapInboundIn(data).readableBytes)
    }
}

/// A byte counter shared between event-loop threads and the benchmark driver.
final class ByteCounter: @unchecked Sendable {
    private let lock = NIOLock()
    private var total = 0
    func add(_ n: Int) { lock.withLock { total += n } }
    var value: Int { lock.withLock { total } }
}

/// Writes `chunk` repeatedly while the channel is writable, until `stop` is set.
final class FloodWriter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    let chunk: ByteBuffer
    private(set) var stopped = false
    init(chunk: ByteBuffer) { self.chunk = chunk }

    func channelActive(context: ChannelHandlerContext) { pump(context: context) }
    func channelWritabilityChanged(context: ChannelHandlerContext) { pump(context: context) }
    func stop() { stopped = true }

    private func pump(context: ChannelHandlerContext) {
        while context.channel.isWritable && !stopped {
            context.write(wrapOutboundOut(chunk), promise: nil)
        }
        context.flush()
    }
}

/// Raw loopback TCP bulk throughput (the baseline the secure stack is compared against).
func rawTCPThroughput(group: EventLoopGroup, seconds: Double) throws -> Double {
    let counter = ByteCounter()
    let server = try ServerBootstrap(group: group)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelInitializer { ch in ch.pipeline.addHandler(DiscardingCounter(counter: counter)) }
        .bind(host: "127.0.0.1", port: 0).wait()
    defer { try? server.close().wait() }
    var chunk = ByteBufferAllocator().buffer(capacity: 65_536)
    chunk.writeRepeatingByte(0x5a, count: 65_536)
    let writer = FloodWriter(chunk: chunk)
    let client = try ClientBootstrap(group: group)
        .channelInitializer { ch in ch.pipeline.addHandler(writer) }
        .connect(to: server.localAddress!).wait()
    Thread.sleep(forTimeInterval: 0.2) // warm-up
    let b0 = counter.value, t0 = nowNanos()
    Thread.sleep(forTimeInterval: seconds)
    let b1 = counter.value, t1 = nowNanos()
    try client.eventLoop.submit { writer.stop() }.wait()
    try client.close().wait()
    return Double(b1 - b0) / (Double(t1 - t0) / 1e9) / 1e6
}
