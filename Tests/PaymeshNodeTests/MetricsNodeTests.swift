import Foundation
@testable import PaymeshConsole
import PaymeshDaemon
import PaymeshNode
import PaymeshNodeTestSupport
import Testing

/// The payments counters (docs/operations.md, "Metrics") after a known workload on the in-memory
/// network, read back from each node's Prometheus registry.
@Suite struct MetricsNodeTests {
    /// `name{label=value,…}` → value, labels sorted, for every sample of a scrape.
    static func values(_ text: String) -> [String: Double] {
        Dictionary(PrometheusText.samples(text).map { s in
            let labels = s.labels.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            return (labels.isEmpty ? s.name : "\(s.name){\(labels)}", s.value)
        }, uniquingKeysWith: { a, _ in a })
    }

    @Test func paymentCountersEqualTheWorkload() async throws {
        let collectors = [NodeMetricsCollector(), NodeMetricsCollector()]
        try await withTestNetwork(2, configure: { i, setup in setup.metrics = collectors[i].metrics }) { net in
            try await net.connect(0, 1)
            try await net[0].fund(1_000_000)
            let channel = try await net[0].openChannel(to: net[1], deposit: 100_000)
            _ = try await net[0].pay(channel, amount: 3, count: 200)
            _ = try await net[0].pay(channel, amount: 5, count: 10)

            let payer = Self.values(await collectors[0].scrape()), payee = Self.values(await collectors[1].scrape())
            #expect(payer["paymesh_payments_sent_total{asset=USDC}"] == 210)
            #expect(payer["paymesh_payments_sent_atomic_total{asset=USDC}"] == 650)
            #expect(payer["paymesh_payments_acked_total{asset=USDC}"] == 210)
            #expect(payer["paymesh_payments_acked_atomic_total{asset=USDC}"] == 650)
            #expect(payer["paymesh_payment_ack_latency_seconds_count"] == 210)
            #expect(payee["paymesh_payments_received_total{asset=USDC}"] == 210)
            #expect(payee["paymesh_payments_received_atomic_total{asset=USDC}"] == 650)
            #expect(payee["paymesh_payments_sent_total{asset=USDC}"] ?? 0 == 0)
            // What one end wrote on the payments stream, the other read: messages and bytes.
            let out = payer["paymesh_stream_messages_total{direction=out,protocol=/paymesh/payments/3}"] ?? 0
            #expect(out >= 211) // the open and 210 vouchers
            #expect(payee["paymesh_stream_messages_total{direction=in,protocol=/paymesh/payments/3}"] == out)
            #expect(payee["paymesh_stream_bytes_total{direction=in,protocol=/paymesh/payments/3}"]
                == payer["paymesh_stream_bytes_total{direction=out,protocol=/paymesh/payments/3}"])
            #expect((payer["paymesh_stream_messages_total{direction=in,protocol=/paymesh/payments/3}"] ?? 0) >= 1)
            // Every committed voucher batch went through the store's observer.
            #expect((payer["paymesh_store_commit_seconds_count"] ?? 0) >= 1)
            #expect((payee["paymesh_store_commit_batch_requests_sum"] ?? 0) >= 1)
        }
    }

    /// After a restart, acknowledgements of vouchers signed before it are not counted again; new
    /// ones are (one registry across the restart here, as if the process had kept running).
    @Test func ackCountingStartsAfterARestart() async throws {
        let collector = NodeMetricsCollector()
        try await withTestNetwork(2, configure: { i, setup in if i == 0 { setup.metrics = collector.metrics } }) { net in
            try await net.connect(0, 1)
            try await net[0].fund(1_000_000)
            let channel = try await net[0].openChannel(to: net[1], deposit: 100_000)
            _ = try await net[0].pay(channel, amount: 2, count: 20)
            await net[0].stop()
            try await net[0].start()
            try await net.connect(0, 1)
            _ = try await net[0].pay(channel, amount: 1, count: 5)
            let payer = Self.values(await collector.scrape())
            #expect(payer["paymesh_payments_sent_total{asset=USDC}"] == 25)
            #expect(payer["paymesh_payments_acked_total{asset=USDC}"] == 25)
            #expect(payer["paymesh_payments_acked_atomic_total{asset=USDC}"] == 45)
        }
    }
}

/// The node's HTTP listener on a real loopback socket: `/metrics` in the Prometheus text format,
/// 404 elsewhere, and a port already taken refuses the start with a clear error.
@Suite struct HTTPListenerTests {
    @Test func servesMetricsOnLoopback() async throws {
        let node = try await RunningNode.start { $0.http = PeerEndpoint(host: "127.0.0.1", port: 0) }
        defer { Task { await node.stop() } }
        let http = try #require(node.started.http)
        #expect(http.host == "127.0.0.1" && http.port > 0)
        let metrics = try await HTTPGet.get(http, "/metrics")
        #expect(metrics.status == 200)
        #expect(metrics.headers["content-type"] == MetricsRoutes.contentType)
        let samples = MetricsNodeTests.values(metrics.body)
        #expect(samples["paymesh_store_healthy"] == 1)
        #expect(samples["paymesh_peer_connections"] == 0)
        #expect(metrics.body.contains("# TYPE paymesh_uptime_seconds gauge"))
        // HTLCs in flight and gossip: a lone node has none pending and knows only itself.
        #expect(samples["paymesh_htlcs_pending{side=offered}"] == 0 && samples["paymesh_htlcs_pending{side=received}"] == 0)
        #expect(samples["paymesh_gossip_graph_entries{kind=channels}"] == 0 && samples["paymesh_gossip_graph_entries{kind=nodes}"] != nil)
        #expect(samples["paymesh_gossip_dropped{reason=graylisted}"] == 0)
        #expect(samples["paymesh_gossip_messages{kind=invalid}"] == 0)
        // The console shows the same samples.
        let console = try await node.call("metrics", ["prefix": "paymesh_store_healthy"])
        #expect(console["samples"] == [["name": "paymesh_store_healthy", "labels": [:], "value": 1]])
        #expect(try await HTTPGet.get(http, "/nope").status == 404)
        await node.stop()
    }

    @Test func aTakenPortRefusesTheStart() async throws {
        let first = try await RunningNode.start { $0.http = PeerEndpoint(host: "127.0.0.1", port: 0) }
        let taken = try #require(first.started.http)
        do {
            let second = try await RunningNode.start { $0.http = taken }
            await second.stop()
            Issue.record("a second node listened on \(taken)")
        } catch let error as NodeError {
            #expect(error.detail.contains("cannot listen for HTTP on \(taken)"))
        }
        await first.stop()
    }

    @Test func httpOptionTakesAPortAloneAsLoopback() throws {
        let options = NodeOptions(dataDir: "/tmp/x", http: "9464")
        #expect(try options.nodeConfiguration().http == PeerEndpoint(host: "127.0.0.1", port: 9464))
        #expect(try NodeOptions(dataDir: "/tmp/x", http: "0.0.0.0:80").nodeConfiguration().http == PeerEndpoint(host: "0.0.0.0", port: 80))
        #expect(try NodeOptions(dataDir: "/tmp/x").nodeConfiguration().http == nil)
        #expect(throws: NodeError.self) { try NodeOptions(dataDir: "/tmp/x", http: "70000").nodeConfiguration() }
        let file = try NodeOptions.parseConfigFile(Array(#"{"http": "127.0.0.1:9100"}"#.utf8), path: "c.json")
        #expect(file.http == "127.0.0.1:9100")
    }
}

/// A blocking HTTP/1.1 GET over a loopback socket (Connection: close), for the listener tests.
enum HTTPGet {
    struct Reply {
        var status: Int
        var headers: [String: String]
        var body: String
    }

    /// A connected TCP socket to `endpoint` whose reads time out after 30 s (the caller closes it).
    static func connected(_ endpoint: PeerEndpoint, receiveBuffer: Int32? = nil) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw NodeError.internalError("socket: errno \(errno)") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBuffer { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(endpoint.port).bigEndian)
        inet_pton(AF_INET, endpoint.host, &address.sin_addr)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw NodeError.internalError("connect \(endpoint): errno \(errno)")
        }
        return fd
    }

    static func fetch(_ endpoint: PeerEndpoint, _ path: String, method: String = "GET", headers extra: [(String, String)] = [],
                      host: String? = nil) throws -> Reply {
        let fd = try connected(endpoint)
        defer { close(fd) }
        let lines = extra.map { "\($0.0): \($0.1)\r\n" }.joined()
        let request = Array("\(method) \(path) HTTP/1.1\r\nHost: \(host ?? endpoint.description)\r\nConnection: close\r\n\(lines)\r\n".utf8)
        guard write(fd, request, request.count) == request.count else { throw NodeError.internalError("write: errno \(errno)") }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = read(fd, &chunk, chunk.count)
            guard n > 0 else { break }
            bytes += chunk[0..<n]
        }
        let text = String(decoding: bytes, as: UTF8.self)
        guard let split = text.range(of: "\r\n\r\n") else { throw NodeError.internalError("no HTTP reply: \(text)") }
        let head = text[..<split.lowerBound].split(separator: "\r\n")
        guard let statusLine = head.first, statusLine.split(separator: " ").count >= 2, let status = Int(statusLine.split(separator: " ")[1]) else {
            throw NodeError.internalError("bad status line: \(head.first ?? "")")
        }
        var headers: [String: String] = [:]
        for line in head.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = String(text[split.upperBound...])
        if headers["transfer-encoding"] == "chunked" { body = dechunk(body) }
        return Reply(status: status, headers: headers, body: body)
    }

    private static func dechunk(_ text: String) -> String {
        var rest = Substring(text), out = ""
        while let lineEnd = rest.range(of: "\r\n"), let size = Int(rest[..<lineEnd.lowerBound], radix: 16), size > 0 {
            let start = lineEnd.upperBound
            let bytes = Array(rest[start...].utf8)
            out += String(decoding: bytes[0..<min(size, bytes.count)], as: UTF8.self)
            rest = Substring(String(decoding: bytes[min(size + 2, bytes.count)...], as: UTF8.self))
        }
        return out
    }
}
