import Foundation
@testable import PaymeshConsole
@testable import PaymeshDaemon
import PaymeshHostile
import PaymeshMessages
import PaymeshNode
import PaymeshTestSupport
import Testing

/// The web view's routes on a real loopback HTTP listener (Specs/webview.md): the page, the
/// snapshot's shape with atomic amounts as strings, the server-sent event framing of a payment,
/// and a client that does not read being dropped with `events.dropped`.
@Suite(.serialized) struct WebViewTests {
    /// A payer node serving HTTP, connected to a payee, funded, with one OPEN channel.
    static func payerWithChannel() async throws -> (payer: RunningNode, payee: RunningNode, channel: String) {
        let payee = try await RunningNode.start()
        let payer = try await RunningNode.start(peers: [payee.started.listen]) { $0.http = PeerEndpoint(host: "127.0.0.1", port: 0) }
        #expect(try await eventually { try await payer.connectedPeers().contains(payee.started.id.description) })
        _ = try await payer.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000000000"])
        let open = try await payer.call("channel.open", ["peer": .string(payee.started.id.description), "asset": "USDC", "decimals": 6,
                                                         "deposit": "12345678"])
        return (payer, payee, try #require(open["channel"]?.stringValue))
    }

    @Test func pageSnapshotAndEvents() async throws {
        try await withTimeout(120) {
            let (payer, payee, channel) = try await Self.payerWithChannel()
            defer { removeDirectory(payer.directory); removeDirectory(payee.directory) }
            let http = try #require(payer.started.http)

            // The page: self-contained (no URL but its own), with the hooks the browser test uses.
            let page = try await HTTPGet.get(http, "/")
            #expect(page.status == 200 && page.headers["content-type"] == "text/html; charset=utf-8")
            #expect(page.headers["content-security-policy"]?.contains("connect-src 'self'") == true)
            #expect(page.body.contains("data-node") && page.body.contains("data-channel") && page.body.contains("new EventSource(\"/events\")"))
            let urls = page.body.components(separatedBy: "://").dropFirst().map { String($0.prefix(12)) }
            #expect(urls == ["www.w3.org/2"], "the page names no URL but the SVG namespace: \(urls)")

            // The event stream: `hello` first, then the payment as `payment.acked` with its record.
            let events = try await SSEStream.open(http)
            #expect(events.headers["content-type"] == WebViewRoutes.eventStreamType)
            let hello = try await events.nextEvent()
            #expect(hello.name == "hello" && hello.data["node"] == .string(payer.started.id.description))
            let paid = try await payer.call("pay", ["channel": .string(channel), "amount": "1500000", "count": 1])
            #expect(paid["complete"] == true)
            var acked = try await events.nextEvent()
            while acked.name != "payment.acked" { acked = try await events.nextEvent() }
            #expect(acked.data["channel"] == .string(channel) && acked.data["cumulative"] == "1500000")
            #expect(acked.data["cumulativeText"] == "1.5 USDC" && acked.data["asset"] == "USDC" && acked.data["decimals"] == 6)
            let record = try #require(acked.data["record"])
            #expect(record["kind"] == "sent" && record["seq"] == 1 && record["amount"] == "1500000" && record["amountText"] == "1.5 USDC")
            #expect(acked.id != nil)

            // The snapshot: every section, amounts as decimal strings with their text for people.
            let reply = try await HTTPGet.get(http, "/api/snapshot")
            #expect(reply.status == 200 && reply.headers["content-type"] == "application/json")
            let snapshot = try JSONValue.parse(Array(reply.body.utf8))
            #expect(snapshot["version"] == .int(WebViewJSON.version))
            #expect(snapshot["node"]?["id"] == .string(payer.started.id.description) && snapshot["node"]?["now"]?.intValue != nil)
            let own = try #require(snapshot["channels"]?.arrayValue?.first)
            #expect(own["channel"] == .string(channel) && own["deposit"] == "12345678" && own["depositText"] == "12.345678 USDC")
            #expect(own["paid"] == "1500000" && own["paidText"] == "1.5 USDC" && own["availableText"] == "10.845678 USDC")
            #expect(snapshot["payments"]?.arrayValue == [record] && snapshot["paymentsTotal"] == 1)
            let peer = try #require(snapshot["peers"]?.arrayValue?.first)
            #expect(peer["id"] == .string(payee.started.id.description) && peer["state"] == "connected")
            #expect(peer.objectValue?.keys.contains("rttMs") == true && peer.objectValue?.keys.contains("gossipScore") == true)
            #expect(snapshot["graph"]?["nodes"]?.arrayValue != nil && snapshot["graph"]?["channels"]?.arrayValue != nil)
            #expect(snapshot["htlcs"] == [])
            #expect(snapshot["feed"]?["clients"] == 1 && snapshot["feed"]?["droppedClients"] == 0)
            events.close()
            // DNS rebinding: a host name is refused; IP literals and localhost are served.
            for path in WebViewRoutes.paths {
                #expect(try await HTTPGet.get(http, path, host: "attacker.example:\(http.port)").status == 421, "\(path)")
            }
            #expect(try await HTTPGet.get(http, "/api/snapshot", host: "localhost:\(http.port)").status == 200)
            #expect(WebViewRoutes.hostAllowed("[::1]:80") && WebViewRoutes.hostAllowed("127.0.0.1") && WebViewRoutes.hostAllowed(nil))
            #expect(!WebViewRoutes.hostAllowed("127.0.0.1.evil.example") && !WebViewRoutes.hostAllowed("1.2.3.4x:80"))
            // Read-only: nothing but GET.
            #expect(try await HTTPGet.get(http, "/api/snapshot", method: "POST").status != 200)
            await payer.stop()
            await payee.stop()
        }
    }

    /// A client that reads nothing while the node publishes far more than its queue holds is
    /// dropped: its stream ends with `events.dropped`, and the feed counts it.
    @Test func aClientThatCannotKeepUpIsDropped() async throws {
        try await withTimeout(120) {
            let node = try await RunningNode.start { $0.http = PeerEndpoint(host: "127.0.0.1", port: 0) }
            defer { removeDirectory(node.directory) }
            let http = try #require(node.started.http)
            let events = try await SSEStream.open(http, receiveBuffer: 4_096)
            #expect(try await events.nextEvent().name == "hello")
            for i in 0..<50_000 {
                node.node.events.publish(.discoveryStatus(.off("flood \(i) " + String(repeating: "x", count: 100))))
            }
            var last = try await events.nextEvent()
            while last.name != "events.dropped" { last = try await events.nextEvent() }
            #expect((last.data["count"]?.intValue ?? 0) >= 1)
            #expect(try await offload { events.atEnd() }, "the server closes a dropped client's stream")
            let snapshot = try JSONValue.parse(Array(try await HTTPGet.get(http, "/api/snapshot").body.utf8))
            #expect((snapshot["feed"]?["droppedClients"]?.intValue ?? 0) >= 1)
            #expect(snapshot["feed"]?["clients"] == 0)
            await node.stop()
        }
    }

    @Test func paymentLogCountsAcknowledgedIncreasesAndKeepsTheNewest() throws {
        let channel = try ChannelID(Array(repeating: 7, count: 32))
        let usdc = try Asset(id: "USDC", decimals: 6)
        var log = PaymentLog(capacity: 3)
        log.seed(channel, acked: 100)
        // Acknowledged before the log started: not counted again.
        let early = log.record(.channel(.paymentAcknowledged(channel, nonce: 1, cumulative: 100)), atUnixMillis: 1, asset: usdc)
        #expect(early == nil)
        let made = log.record(.channel(.paymentAcknowledged(channel, nonce: 3, cumulative: 250)), atUnixMillis: 2, asset: usdc)
        let sent = try #require(made)
        #expect(sent.kind == .sent && sent.amount == 150 && sent.cumulative == 250 && sent.seq == 1 && sent.nonce == 3)
        _ = log.record(.channel(.paymentReceived(channel, nonce: 9, increment: 5, cumulative: 55, taskID: nil)), atUnixMillis: 3, asset: usdc)
        _ = log.record(.channel(.paymentRejected(channel, nonce: 4, code: .insufficientFunds, reason: nil)), atUnixMillis: 4, asset: usdc)
        _ = log.record(.channel(.stateChanged(channel, from: .open, to: .active)), atUnixMillis: 5, asset: usdc) // not a payment
        let succeeded = NodeEvent.htlc(.paymentSucceeded(paymentHash: try Hash32(Array(repeating: 1, count: 32)),
                                                          preimage: try Hash32(Array(repeating: 2, count: 32)), amount: 9, fees: 1))
        let lastMade = log.record(succeeded, atUnixMillis: 6, asset: nil)
        let last = try #require(lastMade)
        #expect(last.kind == .htlcSent && last.amount == 9 && last.seq == 4)
        #expect(log.records.map(\.seq) == [2, 3, 4] && log.total == 4, "oldest first, the oldest forgotten")
        #expect(log.records.map(\.kind) == [.received, .rejected, .htlcSent])
        #expect(WebViewJSON.json(log.records[0])["amountText"] == "0.000005 USDC")
    }
}

extension HTTPGet {
    /// `fetch` on a thread of its own: a blocking read must not hold one of the cooperative
    /// pool's threads, which the node under test needs to answer (2 on a 2-core machine).
    static func get(_ endpoint: PeerEndpoint, _ path: String, method: String = "GET", host: String? = nil) async throws -> Reply {
        try await offload("http-get") { try fetch(endpoint, path, method: method, host: host) }
    }
}

/// A blocking reader of one `GET /events` response over a loopback socket; the async entry
/// points run it on a thread of its own (`offload`). One caller at a time.
final class SSEStream: @unchecked Sendable {
    static func open(_ endpoint: PeerEndpoint, receiveBuffer: Int32? = nil) async throws -> SSEStream {
        try await offload("sse") { try SSEStream(endpoint, receiveBuffer: receiveBuffer) }
    }

    func nextEvent() async throws -> Event { try await offload("sse") { try self.next() } }

    struct Event {
        var name: String
        var id: String?
        var data: JSONValue
    }

    let headers: [String: String]
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var eof = false

    init(_ endpoint: PeerEndpoint, receiveBuffer: Int32? = nil) throws {
        let fd = try HTTPGet.connected(endpoint, receiveBuffer: receiveBuffer)
        let request = Array("GET /events HTTP/1.1\r\nHost: \(endpoint)\r\nAccept: text/event-stream\r\n\r\n".utf8)
        guard write(fd, request, request.count) == request.count else { throw NodeError.internalError("write: errno \(errno)") }
        var head: [String: String] = [:], buffer: [UInt8] = [], eof = false
        let status = try Self.line(fd, &buffer, &eof)
        guard status.hasPrefix("HTTP/1.1 200") else { throw NodeError.internalError("events: \(status)") }
        while case let line = try Self.line(fd, &buffer, &eof), !line.isEmpty {
            if let colon = line.firstIndex(of: ":") {
                head[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
        }
        self.fd = fd
        headers = head
        chunked = head["transfer-encoding"] == "chunked"
        self.buffer = buffer
        self.eof = eof
    }

    private var chunked = false
    private var body: [UInt8] = []

    /// The next event (comments and `retry` skipped).
    func next() throws -> Event {
        var name = "message", id: String?, data = ""
        while true {
            let line = try bodyLine()
            if line.isEmpty {
                if !data.isEmpty { return Event(name: name, id: id, data: try JSONValue.parse(Array(data.utf8))) }
                continue
            }
            if line.hasPrefix("event: ") { name = String(line.dropFirst(7)) }
            else if line.hasPrefix("id: ") { id = String(line.dropFirst(4)) }
            else if line.hasPrefix("data: ") { data += line.dropFirst(6) }
        }
    }

    /// True when the server ended the response (after what was read).
    func atEnd() -> Bool {
        while !eof, body.isEmpty, (try? fill()) != nil {}
        return body.isEmpty && eof
    }

    /// Closes the socket once (a second close could close a descriptor reused by another test).
    func close() {
        guard !closed else { return }
        closed = true
        _ = Foundation.close(fd)
    }

    private var closed = false

    deinit { close() }

    private func bodyLine() throws -> String {
        while true {
            if let nl = body.firstIndex(of: UInt8(ascii: "\n")) {
                let line = String(decoding: body[..<nl], as: UTF8.self)
                body.removeFirst(nl + 1)
                return line
            }
            guard !eof else { throw NodeError.internalError("events: the stream ended") }
            try fill()
        }
    }

    /// Moves the next chunk of the body (de-chunked) into `body`.
    private func fill() throws {
        guard chunked else {
            try Self.read(fd, &buffer, &eof)
            body += buffer
            buffer.removeAll()
            return
        }
        let sizeLine = try Self.line(fd, &buffer, &eof)
        guard let size = Int(sizeLine, radix: 16) else { throw NodeError.internalError("events: bad chunk size \(sizeLine)") }
        if size == 0 { eof = true; return }
        while buffer.count < size + 2 {
            guard !eof else { throw NodeError.internalError("events: truncated chunk") }
            try Self.read(fd, &buffer, &eof)
        }
        body += buffer[..<size]
        buffer.removeFirst(size + 2)
    }

    private static func read(_ fd: Int32, _ buffer: inout [UInt8], _ eof: inout Bool) throws {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let n = Foundation.read(fd, &chunk, chunk.count)
        if n < 0 { throw NodeError.internalError("events: read errno \(errno)") }
        if n == 0 { eof = true }
        buffer += chunk[0..<n]
    }

    private static func line(_ fd: Int32, _ buffer: inout [UInt8], _ eof: inout Bool) throws -> String {
        while true {
            if let nl = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                var line = Array(buffer[..<nl])
                buffer.removeFirst(nl + 1)
                if line.last == UInt8(ascii: "\r") { line.removeLast() }
                return String(decoding: line, as: UTF8.self)
            }
            guard !eof else { throw NodeError.internalError("events: the response ended") }
            try read(fd, &buffer, &eof)
        }
    }
}
