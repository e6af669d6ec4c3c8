import Foundation
import PaymeshConsole
import PaymeshCrypto
import PaymeshDaemon
import PaymeshHostile
import PaymeshMessages
import PaymeshNode
import PaymeshTestSupport
import Testing

/// L402 and A2A on a real node's gateway (Specs/http402.md §10.1, a2a.md), checked by independent
/// clients: `scripts/http402/check_l402_a2a.py` (curl, pymacaroons, the payer node's console to pay
/// the L402 invoice over a route found by gossip, a2a-sdk for a paid task). Three real nodes on
/// loopback (gateway, a payer that pays L402 over a route, an agent whose channel the A2A client
/// signs vouchers on); gossip republishes every 2 s so the payer learns its channel quickly.
@Suite struct GatewayL402A2ATests {
    /// What `echo` declares (Specs/http402.md §10.1): POST for A2A skills, no DELETE.
    static let capabilities = "GET,HEAD,POST"

    @Test func l402AndA2AWithIndependentClients() async throws {
        let upstream = try await TestUpstream.start()
        func gossip(_ c: inout NodeConfiguration) {
            var g = GossipConfiguration()
            g.refreshInterval = .seconds(2)
            c.gossip = g
        }
        let gateway = try await RunningNode.start {
            $0.http = PeerEndpoint(host: "127.0.0.1", port: 0)
            gossip(&$0)
        }
        let payer = try await RunningNode.start { gossip(&$0) }
        let http = try #require(gateway.started.http)
        _ = try await gateway.call("service.add", [
            "name": "echo", "upstream": .string("http://127.0.0.1:\(upstream.port)/api"), "price": "250",
            "unit": "call", "asset": "USDC", "decimals": 6, "description": "echo", "capabilities": .string(Self.capabilities)])
        _ = try await payer.call("connect", ["host": "127.0.0.1", "port": .int(Int64(gateway.started.listen.port))])
        _ = try await payer.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000000"])
        let opened = try await payer.call("channel.open", ["peer": .string(gateway.started.id.description), "asset": "USDC",
                                                           "deposit": "10000"])
        _ = try #require(opened["channel"]?.stringValue)
        // A2A is paid with vouchers the Python client signs itself, on a channel of a third node
        // that nothing else uses (the routed payment moves the first channel's nonce).
        let agent = try await RunningNode.start()
        _ = try await agent.call("connect", ["host": "127.0.0.1", "port": .int(Int64(gateway.started.listen.port))])
        _ = try await agent.call("ledger.fund", ["asset": "USDC", "decimals": 6, "amount": "1000000"])
        let agentOpened = try await agent.call("channel.open", ["peer": .string(gateway.started.id.description), "asset": "USDC",
                                                                "deposit": "10000"])
        let channel = try #require(agentOpened["channel"]?.stringValue)
        // The payer's gossip graph holds the channel with its update: a route to the gateway exists.
        let routable = try await eventually(60) {
            guard case .success(let found) = try await payer.callResult("route.find", ["to": .string(gateway.started.id.description),
                                                                                      "amount": "250", "asset": "USDC"]) else { return false }
            return found["routes"]?.arrayValue?.isEmpty == false
        }
        #expect(routable, "the payer found no route to the gateway over gossip")

        // The unpaid answer carries the L402 challenge next to x402's.
        let unpaid = try await offload("http-get") { try HTTPGet.fetch(http, "/echo/x", headers: []) }
        #expect(unpaid.status == 402)
        #expect(unpaid.headers["www-authenticate"]?.hasPrefix("L402 macaroon=\"") == true)
        #expect(upstream.calls == 0)

        let agentKey = try IdentityStore(directory: agent.directory).loadOrCreate().key
        let keyHex = agentKey.privateKey.withUnsafeRawRepresentation { Array($0).hexString }
        let script = TestVectors.repositoryRoot.appendingPathComponent("scripts/http402/check_l402_a2a.py").path
        let output = try await offload("python") {
            try PythonRun.run([script, "http://\(http)", "echo", gateway.directory + "/" + IdentityStore.fileName, payer.socket,
                               keyHex, channel, "0", "0", Self.capabilities])
        }
        #expect(output.status == 0, "python exited \(output.status)\n\(output.stdout)\n\(output.stderr)")
        #expect(output.stdout.contains("l402 and a2a checks:"), "\(output.stdout)\n\(output.stderr)")
        // Five L402 requests (two plain, the pymacaroons form, the attenuated token's GET, the minted
        // token's POST) and one A2A task reached the upstream; no refused one did (the attenuated POST,
        // the undeclared DELETE).
        #expect(upstream.calls == 6)

        await gateway.stop()
        await payer.stop()
        await agent.stop()
        await upstream.stop()
    }
}

/// Runs `python3 <arguments>` to its end, its output through files (a pipe left open by a child
/// would block a read to its end; see the merge notes of ca9d354).
enum PythonRun {
    struct Output: Sendable { let status: Int32; let stdout: String; let stderr: String }

    static func run(_ arguments: [String]) throws -> Output {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("pyrun-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("out"), err = directory.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        let process = ChildProcess()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return Output(status: process.terminationStatus, stdout: (try? String(contentsOf: out, encoding: .utf8)) ?? "",
                      stderr: (try? String(contentsOf: err, encoding: .utf8)) ?? "")
    }
}
