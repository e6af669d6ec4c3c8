import PaymeshChannels
import PaymeshMessages
import PaymeshNode

/// Typed node events as the console's `event` notifications (Specs/console.md §6 and §8): the
/// only place where an event becomes JSON. `params` is an object with `type` and the fields.
enum ConsoleEvents {
    /// What a subscriber filtering on `topics` (nil: all) is sent for `delivery`, or nil. A
    /// `.dropped` notice (`events.dropped {count}`) is sent whatever the topics.
    static func notification(_ delivery: NodeEventSubscription.Delivery, topics: Set<String>?) -> JSONValue? {
        switch delivery {
        case .dropped(let count):
            return ["type": "events.dropped", "count": JSONValue(count)]
        case .event(let event):
            guard topics?.contains(topic(of: event)) ?? true else { return nil }
            return json(event)
        }
    }

    /// Every topic `topic(of:)` returns: what `subscribe` accepts (a new topic is added to both).
    static let topics: [String] = ["channel", "discovery", "graph", "htlc", "market", "payment", "peer", "service"]

    /// The event's topic: its `type` up to the first dot (decided without building the JSON).
    static func topic(of event: NodeEvent) -> String {
        switch event {
        case .peer(.peerUp), .peer(.peerDown), .peer(.peerBanned): "peer"
        case .peer(.discoveryFound), .peer(.discoveryLost), .peer(.discoverySkipped), .discoveryStatus: "discovery"
        case .channel(.paymentAcknowledged), .channel(.paymentRejected), .channel(.paymentReceived), .streamPaused: "payment"
        case .htlc, .htlcChannel: "htlc"
        case .channel: "channel"
        case .gossip(.channelAnnounced): "graph"
        case .gossip(.nodeAnnounced): "graph"
        case .gossip(.serviceAnnounced), .gossip(.serviceWithdrawn): "service"
        case .market: "market"
        }
    }

    /// `{type, …fields}`.
    static func json(_ event: NodeEvent) -> JSONValue {
        let (type, fields) = typeAndFields(event)
        var o = fields
        o["type"] = .string(type)
        return .object(o)
    }

    static func typeAndFields(_ event: NodeEvent) -> (String, [String: JSONValue]) {
        switch event {
        case .peer(let e): peer(e)
        case .discoveryStatus(let status): ("discovery.status", ["active": .bool(status.active), "reason": JSONValue(status.reason)])
        case .channel(let n): channel(n)
        case .streamPaused(let stream, let channel, let reason, let unpaid):
            ("payment.streamPaused", ["stream": .string(stream), "channel": .string(channel.description),
                                      "reason": .string("\(reason)"), "unpaid": .string(String(unpaid))])
        case .gossip(let e): gossip(e)
        case .htlc(let e): htlc(e)
        case .htlcChannel(let id): ("htlc.channel", ["channel": .string(id.description)])
        case .market(let e): market(e)
        }
    }

    static func market(_ e: MarketEvent) -> (String, [String: JSONValue]) {
        switch e {
        case .negotiation(let id, let status, let round, let ourTurn):
            ("market.negotiation", ["id": .string(id.description), "status": .string(status.rawValue), "round": JSONValue(Int64(round)),
                                    "ourTurn": .bool(ourTurn)])
        case .agreed(let id, let service, let buyer, let seller, let price):
            ("market.agreed", ["id": .string(id.description), "service": .string(service), "buyer": .string(buyer.description),
                               "seller": .string(seller.description), "price": .string(String(price))])
        case .agreementChannel(let id, let channel):
            ("market.channel", ["id": .string(id.description), "channel": JSONValue(channel?.description)])
        case .priceChanged(let service, let price):
            ("market.price", ["service": .string(service), "price": .string(String(price))])
        case .slaViolated(let service, let client, let metric, let sequence):
            ("market.slaViolation", ["service": .string(service), "client": .string(client.description), "metric": .string(metric),
                                     "sequence": .string(String(sequence))])
        }
    }

    static func htlc(_ e: HTLCEvent) -> (String, [String: JSONValue]) {
        switch e {
        case .paymentSucceeded(let hash, let preimage, let amount, let fees):
            ("htlc.succeeded", ["paymentHash": .string(hash.description), "preimage": .string(preimage.description),
                                "amount": .string(String(amount)), "fees": .string(String(fees))])
        case .paymentFailed(let hash, let hop, let node, let code):
            ("htlc.failed", ["paymentHash": .string(hash.description), "hop": JSONValue(hop), "node": .string(node.description),
                             "code": JSONValue(Int(code.rawValue))])
        case .paymentReceived(let hash, let amount, let channel):
            ("htlc.received", ["paymentHash": .string(hash.description), "amount": .string(String(amount)),
                               "channel": .string(channel.description)])
        case .forwarded(let hash, let incoming, let outgoing, let fee):
            ("htlc.forwarded", ["paymentHash": .string(hash.description), "incoming": .string(incoming.channelID.description),
                                "outgoing": .string(outgoing.channelID.description), "fee": .string(String(fee))])
        case .refused(let peer, let code, let detail):
            ("htlc.refused", ["peer": .string(peer.description), "code": JSONValue(Int(code.rawValue)), "detail": .string(detail)])
        }
    }

    static func gossip(_ e: GossipEvent) -> (String, [String: JSONValue]) {
        switch e {
        case .channelAnnounced(let id, let a, let b, let capacity, let asset):
            ("graph.channel", ["channel": .string(id.description), "peerA": .string(a.description), "peerB": .string(b.description),
                               "capacity": .string(String(capacity)), "asset": .string(asset)])
        case .nodeAnnounced(let id, let alias):
            ("graph.node", ["id": .string(id.description), "alias": .string(alias)])
        case .serviceAnnounced(let origin, let name, let price, let asset):
            ("service.announced", ["origin": .string(origin.description), "name": .string(name), "price": .string(String(price)), "asset": .string(asset)])
        case .serviceWithdrawn(let origin, let name):
            ("service.withdrawn", ["origin": .string(origin.description), "name": .string(name)])
        }
    }

    static func peer(_ e: PeerEvent) -> (String, [String: JSONValue]) {
        switch e {
        case .peerUp(let id, let direction, let remote):
            ("peer.up", ["id": .string(id.description), "direction": .string(direction.rawValue), "remote": JSONValue(remote)])
        case .peerDown(let id, let reason):
            ("peer.down", ["id": .string(id.description), "reason": .string(reason)])
        case .peerBanned(let id, let reason, let duration):
            ("peer.banned", ["id": .string(id.description), "reason": .string(reason), "seconds": JSONValue(Int(duration.seconds))])
        case .discoveryFound(let id, let endpoint):
            ("discovery.found", ["id": .string(id.description), "host": .string(endpoint.host), "port": JSONValue(endpoint.port)])
        case .discoveryLost(let id):
            ("discovery.lost", ["id": .string(id.description)])
        case .discoverySkipped(let id, let endpoint):
            ("discovery.skipped", ["id": .string(id.description), "host": .string(endpoint.host), "port": JSONValue(endpoint.port)])
        }
    }

    static func channel(_ n: ChannelNotification) -> (String, [String: JSONValue]) {
        func code(_ c: PaymeshErrorCode) -> [String: JSONValue] { ["code": JSONValue(c.rawValue), "name": JSONValue(c.name ?? "UNKNOWN")] }
        func with(_ c: PaymeshErrorCode, _ fields: [String: JSONValue]) -> [String: JSONValue] { code(c).merging(fields) { a, _ in a } }
        switch n {
        case .stateChanged(let id, let from, let to):
            return ("channel.state", ["channel": .string(id.description), "from": .string(from.rawValue), "to": .string(to.rawValue)])
        case .openRejected(let id, let c, let reason):
            return ("channel.openRejected", with(c, ["channel": .string(id.description), "reason": JSONValue(reason)]))
        case .paymentAcknowledged(let id, let nonce, let cumulative):
            return ("payment.acked", ["channel": .string(id.description), "nonce": JSONValue(nonce), "cumulative": .string(String(cumulative))])
        case .paymentRejected(let id, let nonce, let c, let reason):
            return ("payment.rejected", with(c, ["channel": .string(id.description), "nonce": JSONValue(nonce), "reason": JSONValue(reason)]))
        case .paymentReceived(let id, let nonce, let increment, let cumulative, let task):
            return ("payment.received", ["channel": .string(id.description), "nonce": JSONValue(nonce),
                                         "increment": .string(String(increment)), "cumulative": .string(String(cumulative)),
                                         "taskId": JSONValue(task)])
        case .peerMessageRejected(let id, let c, let detail):
            return ("channel.peerMessageRejected", with(c, ["channel": .string(id.description), "detail": .string(detail)]))
        case .stateRecovered(let id, let nonce, let cumulative):
            return ("channel.recovered", ["channel": .string(id.description), "nonce": JSONValue(nonce), "cumulative": .string(String(cumulative))])
        case .closeRejected(let id, let c, let reason):
            return ("channel.closeRejected", with(c, ["channel": .string(id.description), "reason": JSONValue(reason)]))
        case .disputed(let id, let nonce, let cumulative):
            return ("channel.disputed", ["channel": .string(id.description), "nonce": JSONValue(nonce), "cumulative": .string(String(cumulative))])
        case .settlementSubmitted(let id, let sid):
            return ("channel.settlementSubmitted", ["channel": .string(id.description), "settlement": .string(sid)])
        case .settlementFailed(let id, let reason):
            return ("channel.settlementFailed", ["channel": .string(id.description), "reason": .string(reason)])
        case .settled(let id, let payee, let refund, let offChain):
            return ("channel.settled", ["channel": .string(id.description), "payeeAmount": .string(String(payee)),
                                        "refund": .string(String(refund)), "offChain": .bool(offChain)])
        }
    }
}
