@testable import PaymeshConsole
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshNode
import Testing

/// Typed node events as console notifications: each event's `type` and fields exactly as
/// Specs/console.md §6 and §8 give them (the shapes the JSON events had before they were typed).
@Suite struct ConsoleEventsTests {
    static let peer = EthereumAddress(string: "0x" + String(repeating: "ab", count: 20))!
    static let channel = try! ChannelID([UInt8](repeating: 0xcd, count: 32))
    var id: JSONValue { .string(Self.peer.description) }
    var ch: JSONValue { .string(Self.channel.description) }

    @Test func peerAndDiscoveryEvents() {
        let endpoint = PeerEndpoint(host: "127.0.0.1", port: 9735)
        let cases: [(NodeEvent, JSONValue)] = [
            (.peer(.peerUp(Self.peer, direction: .outbound, remote: "127.0.0.1:9735")),
             ["type": "peer.up", "id": id, "direction": "outbound", "remote": "127.0.0.1:9735"]),
            (.peer(.peerUp(Self.peer, direction: .inbound, remote: nil)), ["type": "peer.up", "id": id, "direction": "inbound", "remote": .null]),
            (.peer(.peerDown(Self.peer, reason: "goaway")), ["type": "peer.down", "id": id, "reason": "goaway"]),
            (.peer(.peerBanned(Self.peer, reason: "forged voucher", duration: .milliseconds(3_600_400))),
             ["type": "peer.banned", "id": id, "reason": "forged voucher", "seconds": 3600]),
            (.peer(.discoveryFound(Self.peer, endpoint)), ["type": "discovery.found", "id": id, "host": "127.0.0.1", "port": 9735]),
            (.peer(.discoveryLost(Self.peer)), ["type": "discovery.lost", "id": id]),
            (.discoveryStatus(.off("disabled by --no-mdns")), ["type": "discovery.status", "active": false, "reason": "disabled by --no-mdns"]),
            (.discoveryStatus(DiscoveryStatus(active: true, reason: nil)), ["type": "discovery.status", "active": true, "reason": .null]),
        ]
        for (event, json) in cases { #expect(ConsoleEvents.json(event) == json) }
        #expect(ConsoleEvents.topic(of: cases[0].0) == "peer" && ConsoleEvents.topic(of: cases[4].0) == "discovery")
    }

    @Test func channelAndPaymentEvents() {
        let refused = PaymeshErrorCode.nonceTooOld
        let big = UInt128(UInt64.max) * 1_000 // beyond 64 bits: still an exact decimal string
        let cases: [(NodeEvent, JSONValue)] = [
            (.channel(.stateChanged(Self.channel, from: .open, to: .active)), ["type": "channel.state", "channel": ch, "from": "OPEN", "to": "ACTIVE"]),
            (.channel(.openRejected(Self.channel, code: refused, reason: nil)),
             ["type": "channel.openRejected", "channel": ch, "code": 1105, "name": "NONCE_TOO_OLD", "reason": .null]),
            (.channel(.paymentAcknowledged(Self.channel, nonce: 7, cumulative: big)),
             ["type": "payment.acked", "channel": ch, "nonce": 7, "cumulative": .string(String(big))]),
            (.channel(.paymentRejected(Self.channel, nonce: 8, code: refused, reason: "old")),
             ["type": "payment.rejected", "channel": ch, "nonce": 8, "code": 1105, "name": "NONCE_TOO_OLD", "reason": "old"]),
            (.channel(.paymentReceived(Self.channel, nonce: 9, increment: 5, cumulative: 45, taskID: "t1")),
             ["type": "payment.received", "channel": ch, "nonce": 9, "increment": "5", "cumulative": "45", "taskId": "t1"]),
            (.channel(.paymentReceived(Self.channel, nonce: 9, increment: 5, cumulative: 45, taskID: nil)),
             ["type": "payment.received", "channel": ch, "nonce": 9, "increment": "5", "cumulative": "45", "taskId": .null]),
            (.channel(.peerMessageRejected(Self.channel, code: refused, detail: "stale")),
             ["type": "channel.peerMessageRejected", "channel": ch, "code": 1105, "name": "NONCE_TOO_OLD", "detail": "stale"]),
            (.channel(.stateRecovered(Self.channel, nonce: 3, cumulative: 30)), ["type": "channel.recovered", "channel": ch, "nonce": 3, "cumulative": "30"]),
            (.channel(.closeRejected(Self.channel, code: refused, reason: "no")),
             ["type": "channel.closeRejected", "channel": ch, "code": 1105, "name": "NONCE_TOO_OLD", "reason": "no"]),
            (.channel(.disputed(Self.channel, nonce: 4, cumulative: 40)), ["type": "channel.disputed", "channel": ch, "nonce": 4, "cumulative": "40"]),
            (.channel(.settlementSubmitted(Self.channel, "s-1")), ["type": "channel.settlementSubmitted", "channel": ch, "settlement": "s-1"]),
            (.channel(.settlementFailed(Self.channel, reason: "ledger")), ["type": "channel.settlementFailed", "channel": ch, "reason": "ledger"]),
            (.channel(.settled(Self.channel, payeeAmount: 40, refund: 60, offChain: true)),
             ["type": "channel.settled", "channel": ch, "payeeAmount": "40", "refund": "60", "offChain": true]),
            (.streamPaused(stream: "s1", channel: Self.channel, reason: .capReached, unpaid: 12),
             ["type": "payment.streamPaused", "stream": "s1", "channel": ch, "reason": "capReached", "unpaid": "12"]),
            (.streamPaused(stream: "s1", channel: Self.channel, reason: .paymentRefused(code: 1104), unpaid: 0),
             ["type": "payment.streamPaused", "stream": "s1", "channel": ch, "reason": "paymentRefused(code: 1104)", "unpaid": "0"]),
        ]
        for (event, json) in cases {
            #expect(ConsoleEvents.json(event) == json)
            // The topic decided without JSON is the type up to its first dot.
            #expect(ConsoleEvents.topic(of: event) == String(json["type"]!.stringValue!.prefix { $0 != "." }))
        }
    }

    @Test func topicsFilterEventsButNeverTheDroppedNotice() {
        let up = NodeEventSubscription.Delivery.event(.peer(.peerDown(Self.peer, reason: "x")))
        #expect(ConsoleEvents.notification(up, topics: ["payment"]) == nil)
        #expect(ConsoleEvents.notification(up, topics: ["peer"])?["type"] == "peer.down")
        #expect(ConsoleEvents.notification(up, topics: nil)?["type"] == "peer.down")
        #expect(ConsoleEvents.notification(.dropped(17), topics: ["payment"]) == ["type": "events.dropped", "count": 17])
    }

    /// The same line a client reads: sorted keys, the notification envelope.
    @Test func theNotificationLineIsStable() throws {
        let params = try #require(ConsoleEvents.notification(.event(.peer(.discoveryLost(Self.peer))), topics: nil))
        #expect(ConsoleProtocol.encodeNotification(method: "event", params: params)
            == #"{"jsonrpc":"2.0","method":"event","params":{"id":"\#(Self.peer.description)","type":"discovery.lost"}}"#)
    }
}
