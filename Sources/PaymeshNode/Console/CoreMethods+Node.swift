import Foundation
import Logging

extension ConsoleRegistry {
    func registerNodeMethods(_ c: CoreMethodContext) {
        register(ConsoleMethod(
            "getinfo", summary: "The node's id, version, listen addresses, uptime and peer counts.",
            result: "{id, version, protocol, listen: [host:port], console, uptimeMs, startedAt, peers: {connected, dialing, banned, known, max}, discovery: {active, reason}, store: {status, error}}"
        ) { _ in
            let s = await c.peers.snapshot()
            let store = c.store()
            return [
                "store": store.map { ["status": .string($0.status), "error": $0.error.map(JSONValue.string) ?? .null] } ?? .null,
                "id": .string(c.id.description),
                "version": .string(PaymeshNode.version),
                "protocol": "paymesh/1",
                "listen": .array(c.listen.map { .string($0.description) }),
                "console": .string(c.consolePath),
                "uptimeMs": c.uptimeMs,
                "startedAt": .string(c.startedAt.formatted(.iso8601)),
                "peers": ["connected": JSONValue(s.connected), "dialing": JSONValue(s.dialing), "banned": JSONValue(s.banned),
                          "known": JSONValue(s.peers.count), "max": JSONValue(s.maxPeers)],
                "discovery": ["active": .bool(s.discovery.active), "reason": JSONValue(s.discovery.reason)],
            ]
        })

        register(ConsoleMethod(
            "metrics", summary: "Node-wide counters.",
            result: "{uptimeMs, connections, peersConnected, dialsStarted, dialsSucceeded, dialsFailed, inboundAccepted, duplicatesClosed, rejectedTooManyPeers, rejectedBanned, bansIssued, violationsReported, disconnects, pingsSent, pingsFailed, bytesIn, bytesOut, messagesIn, messagesOut, eventSubscribers}"
        ) { _ in
            let s = await c.peers.snapshot()
            let m = s.metrics
            let totals = s.peers.reduce(into: TrafficCounters()) { t, p in
                t.bytesIn += p.counters.bytesIn
                t.bytesOut += p.counters.bytesOut
                t.messagesIn += p.counters.messagesIn
                t.messagesOut += p.counters.messagesOut
            }
            return [
                "uptimeMs": c.uptimeMs, "connections": JSONValue(s.connections), "peersConnected": JSONValue(s.connected),
                "dialsStarted": JSONValue(m.dialsStarted), "dialsSucceeded": JSONValue(m.dialsSucceeded), "dialsFailed": JSONValue(m.dialsFailed),
                "inboundAccepted": JSONValue(m.inboundAccepted), "duplicatesClosed": JSONValue(m.duplicatesClosed),
                "rejectedTooManyPeers": JSONValue(m.rejectedTooManyPeers), "rejectedBanned": JSONValue(m.rejectedBanned),
                "bansIssued": JSONValue(m.bansIssued), "violationsReported": JSONValue(m.violationsReported), "disconnects": JSONValue(m.disconnects),
                "pingsSent": JSONValue(m.pingsSent), "pingsFailed": JSONValue(m.pingsFailed),
                "bytesIn": JSONValue(totals.bytesIn), "bytesOut": JSONValue(totals.bytesOut),
                "messagesIn": JSONValue(totals.messagesIn), "messagesOut": JSONValue(totals.messagesOut),
                "eventSubscribers": JSONValue(c.events.subscriberCount),
            ]
        })

        register(ConsoleMethod(
            "loglevel", summary: "Gets the log level, or sets it when level is given.",
            params: [ConsoleParam("level", .string, required: false, "trace, debug, info, notice, warning, error or critical")],
            result: "{level, previous?}"
        ) { call in
            let previous = c.logLevel.level
            guard let text = call.string("level") else { return ["level": .string(previous.rawValue)] }
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw NodeError.invalidParams("unknown level \(text) (trace, debug, info, notice, warning, error, critical)")
            }
            c.logLevel.level = level
            return ["level": .string(level.rawValue), "previous": .string(previous.rawValue)]
        })

        register(ConsoleMethod(
            "stop", summary: "Shuts the node down gracefully (answers first).", result: "{stopping: true}"
        ) { call in
            call.session.afterResponse(c.stop)
            return ["stopping": true]
        })
    }

    func registerSessionMethods(_ c: CoreMethodContext) {
        register(ConsoleMethod(
            "help", summary: "Lists the methods with their parameters, or describes one.",
            params: [ConsoleParam("method", .string, required: false, "a method name")],
            result: "{methods: [{name, summary, params: [{name, type, required, summary}], result}]}"
        ) { [unowned self] call in
            if let name = call.string("method") {
                guard let m = self.method(named: name) else { throw NodeError.methodNotFound(name) }
                return ["methods": [m.helpEntry]]
            }
            return ["methods": .array(self.all.map(\.helpEntry))]
        })

        register(ConsoleMethod(
            "subscribe", summary: "Streams events on this connection as `event` notifications.",
            params: [ConsoleParam("topics", .array, required: false, "topics to receive: peer, discovery (default: all)")],
            result: "{subscribed: [topic], already: bool}; then notifications {method: \"event\", params: {type, …}}"
        ) { call in
            var wanted: Set<String>?
            if let list = call.params["topics"]?.arrayValue {
                let names = list.compactMap(\.stringValue)
                guard names.count == list.count, !names.isEmpty else { throw NodeError.invalidParams("topics must be a non-empty array of strings") }
                wanted = Set(names)
            }
            let topics = wanted
            let events = c.events.subscribe()
            let session = call.session
            let started = session.startSubscription("events") {
                for await event in events where topics?.contains(event.topic) ?? true {
                    do { try await session.notify(method: "event", params: event.json) } catch { return }
                }
            }
            return ["subscribed": .array((topics.map { Array($0).sorted() } ?? ["*"]).map { .string($0) }), "already": .bool(!started)]
        })
    }
}
