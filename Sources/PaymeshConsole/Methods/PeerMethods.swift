import PaymeshCrypto
import PaymeshNode

/// Peer methods: peers, peer, connect, disconnect, ping (Specs/console.md §4) over `PeerManager`.
public struct PeerMethods: ConsoleMethodGroup {
    let peers: PeerManager

    public init(peers: PeerManager) { self.peers = peers }

    public var methods: [ConsoleMethod] {
        let c = self
        return [ConsoleMethod(
            "peers", summary: "Every known peer with its state, plus static endpoints not identified yet.",
            result: "{peers: [{id, state, direction, remote, rttMs, lastSeenAgoMs, connectedForMs}], pending: [{endpoint, source, dialing, attempt, lastError}]}"
        ) { _ in
            let s = await c.peers.snapshot()
            return [
                "peers": .array(s.peers.map { p in
                    ["id": .string(p.id.description), "state": .string(p.state), "direction": JSONValue(p.direction?.rawValue),
                     "remote": JSONValue(p.remoteAddress), "rttMs": ConsoleParams.milliseconds(p.rtt), "lastSeenAgoMs": ConsoleParams.milliseconds(p.lastSeenAgo),
                     "connectedForMs": ConsoleParams.milliseconds(p.connectedFor)]
                }),
                "pending": .array(s.pendingEndpoints.map { e in
                    ["endpoint": .string(e.endpoint.description), "source": .string(e.source.rawValue), "dialing": .bool(e.dialing),
                     "attempt": JSONValue(e.attempt), "lastError": JSONValue(e.lastError)]
                }),
            ]
        },

        ConsoleMethod(
            "peer", summary: "One peer in detail.",
            params: [ConsoleParam("id", .string, "peer id (0x address)")],
            result: "{id, state, direction, remote, addresses: [{endpoint, source}], connectedForMs, lastSeenAgoMs, rttMs, bytesIn, bytesOut, messagesIn, messagesOut, pingsSent, pingsAnswered, violations, attempt, retryInMs, banRemainingMs, banReason, lastDisconnectReason, held}"
        ) { call in
            let p = try await c.peers.info(try ConsoleParams.peerID(call))
            return [
                "id": .string(p.id.description), "state": .string(p.state), "direction": JSONValue(p.direction?.rawValue),
                "remote": JSONValue(p.remoteAddress),
                "addresses": .array(p.addresses.map { ["endpoint": .string($0.endpoint.description), "source": .string($0.source.rawValue)] }),
                "connectedForMs": ConsoleParams.milliseconds(p.connectedFor), "lastSeenAgoMs": ConsoleParams.milliseconds(p.lastSeenAgo), "rttMs": ConsoleParams.milliseconds(p.rtt),
                "bytesIn": JSONValue(p.counters.bytesIn), "bytesOut": JSONValue(p.counters.bytesOut),
                "messagesIn": JSONValue(p.counters.messagesIn), "messagesOut": JSONValue(p.counters.messagesOut),
                "pingsSent": JSONValue(p.counters.pingsSent), "pingsAnswered": JSONValue(p.counters.pingsAnswered),
                "violations": JSONValue(p.counters.violations),
                "attempt": JSONValue(p.attempt), "retryInMs": ConsoleParams.milliseconds(p.retryIn), "banRemainingMs": ConsoleParams.milliseconds(p.banRemaining),
                "banReason": JSONValue(p.banReason), "lastDisconnectReason": JSONValue(p.lastDisconnectReason), "held": .bool(p.held),
            ]
        },

        ConsoleMethod(
            "connect", summary: "Connects to a node at [id@]host:port (or host and port) and waits for the handshake; with an id, a node proving another identity is refused.",
            params: [ConsoleParam("address", .string, required: false, "[id@]host:port"),
                     ConsoleParam("host", .string, required: false, "host name or IP address"),
                     ConsoleParam("port", .integer, required: false, "TCP port, 1–65535"),
                     ConsoleParam("id", .string, required: false, "the peer id the node must prove")],
            result: "{id, alreadyConnected}"
        ) { call in
            var expected: EthereumAddress? = call.string("id") == nil ? nil : try ConsoleParams.peerID(call, "id")
            let endpoint: PeerEndpoint
            if let address = call.string("address") {
                guard call.string("host") == nil, call.int("port") == nil else { throw NodeError.invalidParams("give address, or host and port, not both") }
                let pinned: (id: EthereumAddress?, endpoint: PeerEndpoint)
                do throws(NodeError) { pinned = try PeerEndpoint.parsePinned(address) } catch { throw NodeError.invalidParams(error.detail) }
                if let id = pinned.id, let given = expected, id != given { throw NodeError.invalidParams("address names \(id) but id is \(given)") }
                expected = expected ?? pinned.id
                endpoint = pinned.endpoint
            } else {
                guard let host = call.string("host"), let port = call.int("port") else { throw NodeError.invalidParams("connect needs address ([id@]host:port), or host and port") }
                endpoint = PeerEndpoint(host: host, port: Int(clamping: port))
            }
            guard (1...65_535).contains(endpoint.port), !endpoint.host.isEmpty else { throw NodeError.invalidParams("port must be 1–65535 and host non-empty") }
            let before = await c.peers.snapshot().peers.filter { $0.state == "connected" }.map(\.id)
            let id = try await c.peers.connect(endpoint, expected: expected)
            return ["id": .string(id.description), "alreadyConnected": .bool(before.contains(id))]
        },

        ConsoleMethod(
            "disconnect", summary: "Closes the connection to a peer (GoAway); no automatic redial until connect.",
            params: [ConsoleParam("id", .string, "peer id")],
            result: "{id, disconnecting: true}"
        ) { call in
            let id = try ConsoleParams.peerID(call)
            try await c.peers.disconnect(id)
            return ["id": .string(id.description), "disconnecting": true]
        },

        ConsoleMethod(
            "ping", summary: "Measures the round-trip time to a connected peer over the mesh (a yamux ping).",
            params: [ConsoleParam("id", .string, "peer id")],
            result: "{id, rttMs}"
        ) { call in
            let id = try ConsoleParams.peerID(call)
            let rtt = try await c.peers.ping(id)
            return ["id": .string(id.description), "rttMs": ConsoleParams.milliseconds(rtt)]
        }]
    }
}
