import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import PaymeshConsole

/// `paymesh-bench fetch`: buying over HTTP 402 (Specs/http402.md §11) between two real `paymesh
/// start` processes on loopback — a gateway node selling a service over a small upstream in this
/// process, and a buyer node with a channel to it. Every request goes through the buyer's console
/// (`http.fetch`, sequential, one connection), so the two rates differ only by the payment: paid
/// requests through the gateway (channel scheme, each voucher durable at both ends) against free
/// requests to the same upstream directly. Also the latency of the first paid request and of later
/// ones, and the rate of requests presenting a cached L402 token (a third node buying over a route).
struct FetchBench {
    let seconds: Double

    typealias Failure = BenchFailure
    let paymesh = siblingPaymesh

    func run() async throws {
        let root = try paymeshScratchDirectory("pmbench-fetch")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let upstream = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Upstream())
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        let upstreamPort = upstream.localAddress?.port ?? 0
        let gateway = try start(root + "/gateway", ["--http", "127.0.0.1:0"])
        let buyer = try start(root + "/buyer", [])
        defer {
            for p in [gateway.process, buyer.process] where p.isRunning { p.terminate(); p.waitUntilExit() }
            upstream.close(promise: nil)
        }
        guard let http = gateway.http else { throw Failure(description: "the gateway printed no http= address") }
        print("paymesh-bench fetch — \(ProcessInfo.processInfo.activeProcessorCount) cores, gateway and buyer are separate \(paymesh) processes")
        _ = try await call(gateway.socket, "service.add", ["name": "echo", "upstream": .string("http://127.0.0.1:\(upstreamPort)/api"),
                                                           "price": "250", "unit": "call", "asset": "USDC", "decimals": 6])
        _ = try await call(buyer.socket, "connect", ["host": "127.0.0.1", "port": .int(Int64(gateway.port))])
        _ = try await call(buyer.socket, "ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000000000000"])
        _ = try await call(buyer.socket, "channel.open", ["peer": .string(gateway.id), "asset": "USDC", "deposit": "1000000000000"])

        let seconds = self.seconds
        let paidURL = "http://\(http)/echo/x", freeURL = "http://127.0.0.1:\(upstreamPort)/api/x"
        try await ConsoleClient.withConnection(socketPath: buyer.socket) { client in
            func fetch(_ url: String, paid: Bool) async throws -> UInt64 {
                let start = nowNanos()
                let r = try await client.call("http.fetch", paid ? ["url": .string(url), "max_price": "250"] : ["url": .string(url)])
                guard r["status"] == .int(200), r["paid"] == .string(paid ? "250" : "0") else { throw Failure(description: "unexpected answer \(r)") }
                return nowNanos() - start
            }
            let first = try await fetch(paidURL, paid: true)
            var later: [UInt64] = []
            for _ in 0..<100 { later.append(try await fetch(paidURL, paid: true)) }
            later.sort()
            printRow("first paid http.fetch, ms", String(format: "%.2f", Double(first) / 1e6))
            printRow("  next 100 paid, p50 / p99, ms", String(format: "%.2f / %.2f", Double(later[49]) / 1e6, Double(later[98]) / 1e6))
            func rate(_ url: String, paid: Bool) async throws -> Double {
                var n = 0
                let start = nowNanos(), end = start + UInt64(seconds * 1e9)
                while nowNanos() < end {
                    _ = try await fetch(url, paid: paid)
                    n += 1
                }
                return Double(n) / (Double(nowNanos() - start) / 1e9)
            }
            let free = try await rate(freeURL, paid: false)
            let paid = try await rate(paidURL, paid: true)
            printRow("http.fetch/s, upstream direct, unpaid", formatRate(free))
            printRow("http.fetch/s, via gateway, paid (channel)", formatRate(paid))
            printRow("  paid / unpaid", String(format: "%.2f", paid / free))
            try await l402(paidURL: paidURL, hub: buyer, gateway: gateway, root: root, unpaidRate: free)
        }
    }

    /// L402 with a cached token (Specs/http402.md §11.4): a third node with a channel to the buyer
    /// only (no channel to the gateway, so the channel scheme cannot pay) buys over the route
    /// payer → buyer → gateway once (the invoice paid with an HTLC), then every request presents the
    /// cached token — one HTTP exchange, nothing signed or paid.
    private func l402(paidURL: String, hub: Node, gateway: Node, root: String, unpaidRate: Double) async throws {
        let payer = try start(root + "/l402-payer", [])
        defer { if payer.process.isRunning { payer.process.terminate(); payer.process.waitUntilExit() } }
        _ = try await call(payer.socket, "connect", ["host": "127.0.0.1", "port": .int(Int64(hub.port))])
        _ = try await call(payer.socket, "ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000000000"])
        _ = try await call(payer.socket, "channel.open", ["peer": .string(hub.id), "asset": "USDC", "deposit": "1000000000"])
        // The payer's graph needs both channels and the gateway's node announcement (its onion key).
        let deadline = nowNanos() + 120_000_000_000
        while true {
            let found = try? await call(payer.socket, "route.find", ["to": .string(gateway.id), "amount": "250", "asset": "USDC"])
            if found?["routes"]?.arrayValue?.isEmpty == false { break }
            guard nowNanos() < deadline else { throw Failure(description: "the L402 payer found no route to the gateway within 120 s") }
            try await Task.sleep(for: .milliseconds(200))
        }
        let seconds = self.seconds
        try await ConsoleClient.withConnection(socketPath: payer.socket) { client in
            func fetch(expectPaid: String) async throws -> UInt64 {
                let start = nowNanos()
                let r = try await client.call("http.fetch", ["url": .string(paidURL), "max_price": "250"])
                guard r["status"] == .int(200), r["scheme"] == .string("l402"), r["paid"] == .string(expectPaid) else {
                    throw Failure(description: "unexpected L402 answer \(r)")
                }
                return nowNanos() - start
            }
            let first = try await fetch(expectPaid: "250")
            printRow("first L402 http.fetch (routed invoice), ms", String(format: "%.2f", Double(first) / 1e6))
            var n = 0
            let start = nowNanos(), end = start + UInt64(seconds * 1e9)
            while nowNanos() < end {
                _ = try await fetch(expectPaid: "0")
                n += 1
            }
            let rate = Double(n) / (Double(nowNanos() - start) / 1e9)
            printRow("http.fetch/s, via gateway, L402 cached token", formatRate(rate))
            printRow("  L402 cached / unpaid", String(format: "%.2f", rate / unpaidRate))
        }
    }

    struct Node {
        let process: Process
        let id: String
        let port: Int
        let http: String?
        let socket: String
    }

    /// `paymesh start --data-dir dir --listen 127.0.0.1:0 --no-mdns …`; waits for its ready line (output to a file, not a pipe).
    private func start(_ dir: String, _ extra: [String]) throws -> Node {
        let log = dir + ".log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: paymesh)
        process.arguments = ["start", "--data-dir", dir, "--listen", "127.0.0.1:0", "--no-mdns"] + extra
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        process.standardOutput = handle
        process.standardError = handle
        process.standardInput = FileHandle.nullDevice
        try process.run()
        try handle.close()
        let deadline = Date().addingTimeInterval(30)
        while Date() < deadline {
            let text = (FileManager.default.contents(atPath: log)).map { String(decoding: $0, as: UTF8.self) } ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("paymesh ready ") }) {
                var fields: [String: String] = [:]
                for word in line.split(separator: " ") {
                    if let eq = word.firstIndex(of: "=") { fields[String(word[..<eq])] = String(word[word.index(after: eq)...]) }
                }
                guard let id = fields["id"], let listen = fields["listen"], let port = listen.split(separator: ":").last.flatMap({ Int($0) }) else { break }
                return Node(process: process, id: id, port: port, http: fields["http"], socket: dir + "/console.sock")
            }
            guard process.isRunning else { break }
            Thread.sleep(forTimeInterval: 0.02)
        }
        if process.isRunning { process.terminate() }
        throw Failure(description: "paymesh start \(dir) did not get ready: see \(log)")
    }

    private func call(_ socket: String, _ method: String, _ params: [String: JSONValue]) async throws -> JSONValue {
        try await ConsoleClient.withConnection(socketPath: socket) { try await $0.call(method, params) }
    }

    /// Answers every request with 200 and a short body.
    private final class Upstream: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .end = unwrapInboundIn(data) else { return }
            var head = HTTPResponseHead(version: .http1_1, status: .ok)
            head.headers.add(name: "Content-Length", value: "2")
            head.headers.add(name: "Connection", value: "close")
            context.write(wrapOutboundOut(.head(head)), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "ok")))), promise: nil)
            let channel = context.channel
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
        }
    }
}
