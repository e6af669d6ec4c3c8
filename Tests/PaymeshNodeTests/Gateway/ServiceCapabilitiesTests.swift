import Foundation
import PaymeshConsole
import PaymeshCrypto
import PaymeshDaemon
import PaymeshHostile
import PaymeshMessages
import PaymeshNode
import PaymeshPay402
import PaymeshTestSupport
import Testing

/// Service-declared capabilities (Specs/http402.md §10.1, "Capabilities"; console `service.add
/// capabilities=`): the list is checked (a typed error for anything but the gateway's methods),
/// durable in services.json (a file without it still loads), and a request with another method is
/// refused with 405 / 1325 before any proof is read: the voucher it carried is not taken and the
/// upstream is not called.
@Suite struct ServiceCapabilitiesTests {
    static let base: [String: JSONValue] = ["name": "svc", "upstream": "http://127.0.0.1:9/x", "price": "5", "unit": "call",
                                            "asset": "USDC", "decimals": 6]

    @Test func serviceAddRefusesBadCapabilities() async throws {
        let node = try await RunningNode.start()
        let bad: [JSONValue] = ["", "get", "GET,get", "GET,,HEAD", "GET,GET", "OPTIONS", "GET;HEAD", "CONNECT", "GET HEAD",
                                .string(String(repeating: "GET,", count: 20) + "GET"), "GET,HEAD,POST,PUT,PATCH,DELETE,GET", .int(7)]
        for value in bad {
            var params = Self.base
            params["capabilities"] = value
            guard case .failure(let error) = try await node.callResult("service.add", params) else {
                Issue.record("service.add accepted capabilities=\(value)")
                continue
            }
            #expect(error.code == -32602, "capabilities=\(value)")
        }
        #expect(try await node.call("service.list")["services"] == [], "a refused service.add changes nothing")

        var good = Self.base
        good["capabilities"] = " GET, HEAD "
        _ = try await node.call("service.add", good)
        #expect(try await node.call("service.list")["services"]?.arrayValue?.first?["capabilities"] == ["GET", "HEAD"])
        good["name"] = "all"
        good["capabilities"] = nil
        _ = try await node.call("service.add", good)
        #expect(try await node.call("service.list")["services"]?.arrayValue?.first?["capabilities"] == .null, "none declared: null")

        // Durable: a restart reads them back from services.json.
        let directory = node.directory
        await node.stop()
        let again = try await RunningNode.start(directory: directory)
        let listed = try #require(try await again.call("service.list")["services"]?.arrayValue)
        #expect(listed.map { $0["capabilities"] } == [.null, ["GET", "HEAD"]])
        await again.stop()
    }

    /// A services.json written before services declared capabilities loads (every method); one
    /// whose capabilities are not the gateway's methods is damaged (a typed error, not a crash).
    @Test func servicesFileWithAndWithoutCapabilities() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("caps-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/" + ServiceCatalog.fileName
        func write(_ capabilities: String?) throws {
            let field = capabilities.map { ", \"capabilities\": \($0)" } ?? ""
            let text = """
                {"services": [{"name": "echo", "upstream": "http://127.0.0.1:9/api", "price": "250", "unit": "call",
                               "asset": "USDC", "decimals": 6, "description": "echo"\(field)}]}
                """
            try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        }
        try write(nil)
        let old = try ServiceCatalog(directory: directory, gossip: nil)
        let echo = try #require(await old.service(named: "echo"))
        #expect(echo.capabilities == [])
        #expect(echo.allows("DELETE"))

        try write("[\"GET\", \"POST\"]")
        let declared = try #require(await (try ServiceCatalog(directory: directory, gossip: nil)).service(named: "echo"))
        #expect(declared.capabilities == ["GET", "POST"])
        #expect(declared.allows("POST") && !declared.allows("HEAD"))

        for damaged in ["[\"get\"]", "[]", "[\"GET\", \"GET\"]", "\"GET\"", "[1]", "[\"TRACE\"]"] {
            try write(damaged)
            #expect(throws: NodeError.self, "capabilities \(damaged)") { try ServiceCatalog(directory: directory, gossip: nil) }
        }
    }

    @Test func undeclaredMethodIsRefusedBeforeAnyPayment() async throws {
        let s = try await GatewayTests.setUp()
        // The same name replaces the service: now it serves GET and HEAD only.
        _ = try await s.gateway.call("service.add", [
            "name": "echo", "upstream": .string("http://127.0.0.1:\(s.upstream.port)/api"), "price": .string(String(GatewayTests.price)),
            "unit": "call", "asset": "USDC", "decimals": 6, "description": "echo", "capabilities": "GET,HEAD"])
        let http = s.http
        func send(_ method: String, _ proof: HTTPHeaderField? = nil) async throws -> HTTPGet.Reply {
            let headers = proof.map { [($0.name, $0.value)] } ?? []
            return try await offload("http-\(method)") {
                try HTTPGet.fetch(http, "/echo/x", method: method, headers: headers)
            }
        }
        for method in ["POST", "PUT", "PATCH", "DELETE"] {
            let unpaid = try await send(method)
            #expect(unpaid.status == 405, "\(method) unpaid: \(unpaid.status)")
            #expect(unpaid.headers["paymesh-error-code"] == "1325", "\(method)")
            #expect(unpaid.headers["allow"] == "GET, HEAD", "\(method)")
            #expect(unpaid.headers["www-authenticate"] == nil && unpaid.headers["payment-required"] == nil, "no challenge to pay")
            #expect(unpaid.body.contains("1325 SERVICE_NOT_AUTHORIZED"), "\(unpaid.body)")
        }
        // A good voucher on a POST: refused, and not taken — the same voucher then pays a GET.
        let voucher = try s.voucher(nonce: 1, amount: GatewayTests.price)
        let post = try await send("POST", ChannelSchemeProof.xPayment(voucher, paying: s.requirements))
        #expect(post.status == 405)
        #expect(post.headers["x-payment-response"] == nil, "no receipt: nothing was paid")
        #expect(s.upstream.calls == 0, "the upstream is never called for an undeclared method")
        let get = try await send("GET", ChannelSchemeProof.xPayment(voucher, paying: s.requirements))
        #expect(get.status == 200, "\(get.status) \(get.body)")
        #expect(get.body == "upstream GET /api/x")
        #expect(s.upstream.calls == 1)

        await s.gateway.stop()
        await s.payer.stop()
        await s.upstream.stop()
    }

    /// The CORS preflight offers a browser only the methods a service declares (every method when
    /// it declares none); an unknown service is 404 (§10).
    @Test func preflightListsTheDeclaredCapabilitiesOnly() async throws {
        let node = try await RunningNode.start { $0.http = PeerEndpoint(host: "127.0.0.1", port: 0) }
        let http = try #require(node.started.http)
        var all = Self.base
        all["name"] = "all"
        _ = try await node.call("service.add", all)
        var readOnly = Self.base
        readOnly["name"] = "ro"
        readOnly["capabilities"] = "HEAD,GET"
        _ = try await node.call("service.add", readOnly)
        func preflight(_ path: String) async throws -> HTTPGet.Reply {
            try await offload("preflight") { try HTTPGet.fetch(http, path, method: "OPTIONS") }
        }
        for path in ["/ro", "/ro/x/y?z=1"] {
            let reply = try await preflight(path)
            #expect(reply.status == 204, "\(path)")
            #expect(reply.headers["access-control-allow-methods"] == "HEAD, GET", "\(path): \(reply.headers)")
            #expect(reply.headers["access-control-allow-origin"] == "*")
        }
        let every = try await preflight("/all/x")
        #expect(every.status == 204)
        #expect(every.headers["access-control-allow-methods"] == "GET, HEAD, POST, PUT, PATCH, DELETE")
        #expect(try await preflight("/nope").status == 404)
        await node.stop()
    }
}
