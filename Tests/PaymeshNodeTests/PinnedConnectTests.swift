import Foundation
import PaymeshConsole
import PaymeshCrypto
import PaymeshDaemon
import PaymeshNode
import PaymeshTestSupport
import Testing

/// `connect id@host:port` and `--peer id@host:port` (Specs/console.md §4): the node there must
/// prove the identity; errors in plain words.
@Suite struct PinnedConnectTests {
    @Test func connectRefusesAnotherIdentityAndAcceptsTheNamedOne() async throws {
        try await withTimeout(60) {
            let a = try await RunningNode.start(), b = try await RunningNode.start()
            defer { removeDirectory(a.directory); removeDirectory(b.directory) }
            let port = a.started.listen.port, idA = a.started.id
            let wrong = try #require(EthereumAddress(string: "0x" + String(repeating: "11", count: 20)))
            guard case .failure(let refused) = try await b.callResult("connect", ["address": .string("\(wrong)@127.0.0.1:\(port)")]) else {
                Issue.record("a node proving another identity was accepted"); return
            }
            #expect(refused.code == 1201 && refused.name == "IDENTITY_NOT_VERIFIED", "\(refused)")
            #expect(try await b.connectedPeers().isEmpty)
            let ok = try await b.call("connect", ["address": .string("\(idA)@127.0.0.1:\(port)")])
            #expect(ok["id"] == .string(idA.description) && ok["alreadyConnected"] == false, "\(ok)")
            // Connected now: the same address with another id is refused at once, the link stays.
            guard case .failure(let again) = try await b.callResult("connect", ["address": .string("127.0.0.1:\(port)"), "id": .string(wrong.description)]) else {
                Issue.record("accepted"); return
            }
            #expect(again.code == 1201 && again.message == "the node at 127.0.0.1:\(port) is \(idA), not \(wrong)", "\(again)")
            #expect(try await b.connectedPeers() == [idA.description])
            // A refused dial says why in plain words.
            guard case .failure(let closed) = try await b.callResult("connect", ["address": "127.0.0.1:1"]) else { Issue.record("port 1 answered"); return }
            #expect(closed.name == "DIAL_FAILED" && closed.message == "cannot connect to 127.0.0.1:1: connection refused", "\(closed)")
            await b.stop()
            await a.stop()
        }
    }

    @Test func peerOptionTakesAnID() throws {
        let id = "0x" + String(repeating: "ab", count: 20)
        let configuration = try NodeOptions(peers: ["\(id)@127.0.0.1:9735", "127.0.0.1:9736"]).nodeConfiguration()
        #expect(configuration.staticPeers == [PeerEndpoint(host: "127.0.0.1", port: 9735), PeerEndpoint(host: "127.0.0.1", port: 9736)])
        #expect(configuration.pinnedPeers == [PeerEndpoint(host: "127.0.0.1", port: 9735): EthereumAddress(string: id)!])
        #expect(throws: NodeError.self) { try NodeOptions(peers: ["0x12@127.0.0.1:1"]).nodeConfiguration() }
    }
}
