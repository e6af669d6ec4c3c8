import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import PaymeshNode

/// Gossip methods (Specs/console.md, "Gossip"): gossip.status, graph.nodes, graph.channels,
/// services.find, service.advertise, service.withdraw over `GossipService`.
public struct GossipMethods: ConsoleMethodGroup {
    let gossip: GossipService

    /// Checks advertised assets against the node's asset registry when given.
    let payments: PaymentsService?
    public init(gossip: GossipService, payments: PaymentsService? = nil) {
        self.gossip = gossip
        self.payments = payments
    }

    public var methods: [ConsoleMethod] {
        let g = gossip
        return [ConsoleMethod(
            "gossip.status", summary: "Topics, mesh peers, per-peer scores with their components, and the counters (every drop by reason).",
            result: "{topics, mesh: {topic: [id]}, peers: [{id, topics, score, components: {timeInMesh, firstDeliveries, meshDeliveryDeficit, invalidMessages, application, ipColocation, behaviourPenalty}}], counters: {received, delivered, duplicates, invalid, published, forwarded, framesReceived, framesSent, dropped: {reason: n}, droppedTotal, …}, driver: {heartbeats, writeFailures, streamOpenFailures, announcementsRefused, prunedChannels, prunedNodes, prunedServices, misbehaviourReported}, sync: {requestsSent, requestsServed, messagesSent, messagesReceived, delivered, completed}, graph: {channels, nodes, services}, announcements: {announceable, announced, proposalsSent, counterSigned}}"
        ) { _ in Self.statusJSON(await g.status()) },

        ConsoleMethod(
            "graph.nodes", summary: "Every node announcement in the network graph.",
            result: "{nodes: [{id, alias, addresses, features, onionKey, timestamp}]}"
        ) { _ in
            ["nodes": .array(await g.graphNodes().map { n in
                ["id": .string(n.id.description), "alias": .string(n.announcement.alias),
                 "addresses": .array(n.announcement.addresses.map { .string($0) }),
                 "features": .array(n.announcement.features.map { .string($0) }),
                 "onionKey": .string("0x" + Self.hex(n.announcement.onionKey.compressedRepresentation)),
                 "timestamp": JSONValue(n.timestamp)]
            })]
        },

        ConsoleMethod(
            "graph.channels", summary: "Every channel in the network graph (signed by both ends) with its fees, each end's update and its age.",
            result: "{channels: [{id, peerA, peerB, capacity, asset, decimals, feeBase, feePpm, ageMs, updates: [{from, feeBase, feePpm, htlcMin, htlcMax, expiryDeltaMs, enabled}]}]}"
        ) { _ in
            ["channels": .array(await g.graphChannels().map { c in
                var updates: [JSONValue] = []
                for (end, u) in [(c.peerA, c.updateA), (c.peerB, c.updateB)] {
                    guard let u else { continue }
                    updates.append(["from": .string(end.description), "feeBase": .string(u.feeBase.description), "feePpm": JSONValue(u.feePPM),
                                    "htlcMin": .string(u.htlcMinimum.description), "htlcMax": .string(u.htlcMaximum.description),
                                    "expiryDeltaMs": JSONValue(u.expiryDeltaMillis), "enabled": .bool(u.enabled)])
                }
                return ["id": .string(c.id.description), "peerA": .string(c.peerA.description), "peerB": .string(c.peerB.description),
                        "capacity": .string(c.capacity.description), "asset": .string(c.asset.id), "decimals": JSONValue(Int64(c.asset.decimals)),
                        "feeBase": .string(c.feeBase.description), "feePpm": JSONValue(c.feePPM), "ageMs": JSONValue(c.ageMillis),
                        "updates": .array(updates)]
            })]
        },

        ConsoleMethod(
            "services.find", summary: "Unexpired services in the directory, cheapest first; every filter optional.",
            params: [ConsoleParam("name", .string, required: false, "case-insensitive substring of the service name"),
                     ConsoleParam("unit", .string, required: false, "call, token, second or byte"),
                     ConsoleParam("maxPrice", .string, required: false, "price cap per unit, atomic units (decimal string)"),
                     ConsoleParam("asset", .string, required: false, "asset id")],
            result: "{services: [{origin, name, description, unit, price, asset, decimals, endpoint, agentCard, expires}]}"
        ) { call in
            var query = NetworkGraph.ServiceQuery(name: call.string("name"), asset: call.string("asset"))
            if let unit = call.string("unit") { query.unit = try Self.unit(unit) }
            if call.params["maxPrice"] != nil { query.maxPrice = Amount(try PaymentParams.amountParam(call, "maxPrice", asset: nil)) }
            return ["services": .array(await g.findServices(query).map { s in
                let a = s.announcement
                var o: [String: JSONValue] = ["origin": .string(s.origin.description), "name": .string(a.name), "description": .string(a.description),
                                              "unit": .string(a.unit.rawValue), "price": .string(a.price.description), "asset": .string(a.asset.id),
                                              "decimals": JSONValue(Int64(a.asset.decimals)), "expires": JSONValue(a.expires)]
                switch a.endpoint {
                case .mesh: o["endpoint"] = "mesh"
                case .http(let url): o["endpoint"] = .string(url)
                }
                o["agentCard"] = JSONValue(a.agentCard)
                return .object(o)
            })]
        },

        ConsoleMethod(
            "service.advertise", summary: "Signs and gossips a service this node sells; re-published at every refresh until withdrawn.",
            params: [ConsoleParam("name", .string, "1–64 bytes; (this node, name) identifies the service"),
                     ConsoleParam("unit", .string, "call, token, second or byte"),
                     ConsoleParam("price", .string, "price of one unit, atomic units (decimal string)"),
                     ConsoleParam("asset", .string, "asset id, 1–32 bytes"),
                     ConsoleParam("decimals", .integer, "the asset's decimals, 0–36"),
                     ConsoleParam("description", .string, required: false, "0–512 bytes"),
                     ConsoleParam("endpoint", .string, required: false, "\"mesh\" (default) or an http(s) URL"),
                     ConsoleParam("agentCard", .string, required: false, "http(s) URL of the A2A agent card"),
                     ConsoleParam("lifetimeMs", .integer, required: false, "how long each announcement lasts, 1 ms … 30 days")],
            result: "{origin, name, expires}"
        ) { call in
            let endpoint = call.string("endpoint").map { $0 == "mesh" ? ServiceAnnouncement.Endpoint.mesh : .http($0) } ?? .mesh
            var lifetime: UInt64?
            if let ms = try PaymentParams.nonNegative(call, "lifetimeMs") { lifetime = UInt64(ms) }
            let asset = try await Self.asset(call, payments: payments)
            let service: ServiceAnnouncement
            do {
                service = try ServiceAnnouncement(name: try call.requireString("name"), description: call.string("description") ?? "",
                                                  unit: try Self.unit(try call.requireString("unit")),
                                                  price: Amount(try PaymentParams.amountParam(call, "price", asset: asset)), asset: asset,
                                                  endpoint: endpoint, agentCard: call.string("agentCard"), expires: 0)
            } catch let error as GossipError {
                throw NodeError.invalidParams(error.detail)
            }
            let a = try await g.advertise(service, lifetimeMillis: lifetime)
            return ["origin": .string(g.id.description), "name": .string(a.name), "expires": JSONValue(a.expires)]
        },

        ConsoleMethod(
            "service.withdraw", summary: "Gossips the withdrawal of a service this node advertised.",
            params: [ConsoleParam("name", .string, "the advertised name")],
            result: "{name, withdrawn: true}"
        ) { call in
            let name = try call.requireString("name")
            try await g.withdraw(name)
            return ["name": .string(name), "withdrawn": true]
        }]
    }

    /// `asset` and `decimals` of an advertised service: through the node's asset registry when
    /// the group has the payments service (other decimals than the registered ones are refused).
    static func asset(_ call: ConsoleCall, payments: PaymentsService?) async throws(NodeError) -> Asset {
        if let payments { return try await PaymentParams.assetParam(call, amount: "price", payments: payments) }
        let id = Asset.normalizedID(try call.requireString("asset")), decimals = try call.requireInt("decimals")
        guard (0...36).contains(decimals), let asset = try? Asset(id: id, decimals: UInt8(decimals)) else {
            throw .invalidParams("asset must be 1–32 bytes and decimals 0–36")
        }
        return asset
    }

    static func unit(_ text: String) throws(NodeError) -> ServiceAnnouncement.Unit {
        guard let unit = ServiceAnnouncement.Unit(rawValue: text) else { throw .invalidParams("unit must be call, token, second or byte: \(text)") }
        return unit
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0x0f)]] })
    }

    static func statusJSON(_ s: GossipStatus) -> JSONValue {
        var mesh: [String: JSONValue] = [:]
        for (topic, ids) in s.mesh { mesh[topic] = .array(ids.map { .string($0.description) }) }
        var dropped: [String: JSONValue] = [:]
        for (reason, n) in s.counters.dropped { dropped[reason.rawValue] = JSONValue(n) }
        let c = s.counters
        return [
            "topics": .array(s.topics.map { .string($0) }),
            "mesh": .object(mesh),
            "peers": .array(s.peers.map { p in
                let k = p.components
                return ["id": .string(p.id.description), "topics": .array(p.topics.map { .string($0) }), "score": .double(p.score),
                        "components": ["timeInMesh": .double(k.timeInMesh), "firstDeliveries": .double(k.firstDeliveries),
                                       "meshDeliveryDeficit": .double(k.meshDeliveryDeficit), "invalidMessages": .double(k.invalidMessages),
                                       "application": .double(k.application), "ipColocation": .double(k.ipColocation),
                                       "behaviourPenalty": .double(k.behaviourPenalty)]]
            }),
            "counters": ["received": JSONValue(c.messagesReceived), "delivered": JSONValue(c.delivered), "duplicates": JSONValue(c.duplicates),
                         "invalid": JSONValue(c.invalid), "published": JSONValue(c.published), "forwarded": JSONValue(c.forwarded),
                         "framesReceived": JSONValue(c.framesReceived), "framesSent": JSONValue(c.framesSent),
                         "ihaveSent": JSONValue(c.ihaveSent), "iwantSent": JSONValue(c.iwantSent), "brokenPromises": JSONValue(c.brokenPromises),
                         "dropped": .object(dropped), "droppedTotal": JSONValue(c.droppedTotal)],
            "sync": ["requestsSent": JSONValue(c.syncRequestsSent), "requestsServed": JSONValue(c.syncRequestsServed),
                     "messagesSent": JSONValue(c.syncMessagesSent), "messagesReceived": JSONValue(c.syncMessagesReceived),
                     "delivered": JSONValue(c.syncDelivered), "completed": JSONValue(c.syncCompleted)],
            "driver": ["heartbeats": JSONValue(s.driver.heartbeats), "writeFailures": JSONValue(s.driver.writeFailures),
                       "streamOpenFailures": JSONValue(s.driver.streamOpenFailures), "announcementsRefused": JSONValue(s.driver.announcementsRefused),
                       "prunedChannels": JSONValue(s.driver.prunedChannels), "prunedNodes": JSONValue(s.driver.prunedNodes),
                       "prunedServices": JSONValue(s.driver.prunedServices),
                       "misbehaviourReported": JSONValue(s.driver.misbehaviourReported)],
            "graph": ["channels": JSONValue(s.graphChannels), "nodes": JSONValue(s.graphNodes), "services": JSONValue(s.graphServices)],
            "announcements": ["announceable": JSONValue(s.announceable), "announced": JSONValue(s.announced),
                              "proposalsSent": JSONValue(s.proposalsSent), "counterSigned": JSONValue(s.counterSigned)],
        ]
    }
}
