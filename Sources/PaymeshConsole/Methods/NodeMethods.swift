import Foundation
import Logging
import PaymeshCrypto
import PaymeshNode
import PaymeshStore

/// The node's own methods: getinfo, metrics, loglevel, stop (Specs/console.md §4).
public struct NodeMethods: ConsoleMethodGroup {
    /// What `getinfo` reports about the running node (known once it listens).
    public struct Info: Sendable {
        public var id: EthereumAddress
        public var version: String
        public var listen: [PeerEndpoint]
        public var consolePath: String
        /// The node's clock (uptime and the start time are read from it, never from the system).
        public var clock: any NodeClock
        public var started: NodeInstant
        public var startedAtUnixMillis: UInt64

        public init(id: EthereumAddress, version: String, listen: [PeerEndpoint], consolePath: String, clock: any NodeClock) {
            self.id = id
            self.version = version
            self.listen = listen
            self.consolePath = consolePath
            self.clock = clock
            started = clock.now
            startedAtUnixMillis = clock.unixMillis
        }
    }

    let info: Info
    let peers: PeerManager
    let logLevel: LogLevelControl
    let events: NodeEventHub
    let stop: @Sendable () -> Void
    /// The channel store's health (nil before payments started).
    let store: @Sendable () -> StoreHealth?
    /// The node's metrics in the Prometheus text format (what `/metrics` serves), shown by
    /// `metrics` as `samples`; nil: none.
    let scrape: (@Sendable () async -> String)?

    public init(info: Info, peers: PeerManager, logLevel: LogLevelControl, events: NodeEventHub,
                stop: @escaping @Sendable () -> Void, store: @escaping @Sendable () -> StoreHealth?,
                scrape: (@Sendable () async -> String)? = nil) {
        self.scrape = scrape
        self.info = info
        self.peers = peers
        self.logLevel = logLevel
        self.events = events
        self.stop = stop
        self.store = store
    }

    var uptimeMs: JSONValue { JSONValue(Int64(info.started.duration(to: info.clock.now).milliseconds)) }

    public var methods: [ConsoleMethod] { [getinfo, metrics, loglevel, stopMethod] }

    var getinfo: ConsoleMethod {
        ConsoleMethod(
            "getinfo", summary: "The node's id, version, listen addresses, uptime and peer counts.",
            result: "{id, version, protocol, listen: [host:port], console, uptimeMs, startedAt, peers: {connected, dialing, banned, known, max}, discovery: {active, reason}, store: {status, error}}"
        ) { [self] _ in
            let s = await peers.snapshot()
            return [
                "store": store().map(Self.storeJSON) ?? .null,
                "id": .string(info.id.description),
                "version": .string(info.version),
                "protocol": "paymesh/1",
                "listen": .array(info.listen.map { .string($0.description) }),
                "console": .string(info.consolePath),
                "uptimeMs": uptimeMs,
                "startedAt": .string(Date(timeIntervalSince1970: Double(info.startedAtUnixMillis) / 1_000).formatted(.iso8601)),
                "peers": ["connected": JSONValue(s.connected), "dialing": JSONValue(s.dialing), "banned": JSONValue(s.banned),
                          "known": JSONValue(s.peers.count), "max": JSONValue(s.maxPeers)],
                "discovery": ["active": .bool(s.discovery.active), "reason": JSONValue(s.discovery.reason)],
            ]
        }
    }

    static func storeJSON(_ health: StoreHealth) -> JSONValue {
        switch health {
        case .ok: ["status": "ok", "error": .null]
        case .degraded(let e): ["status": "degraded", "error": .string("\(e)")]
        case .stopped(let e): ["status": "stopped", "error": .string("\(e)")]
        }
    }

    var metrics: ConsoleMethod {
        ConsoleMethod(
            "metrics", summary: "Node-wide counters, and every sample GET /metrics serves (docs/operations.md).",
            params: [ConsoleParam("prefix", .string, required: false, "samples: keep only names starting with this (e.g. paymesh_payments)")],
            result: "{uptimeMs, connections, peersConnected, dialsStarted, dialsSucceeded, dialsFailed, inboundAccepted, duplicatesClosed, rejectedTooManyPeers, rejectedBanned, bansIssued, violationsReported, disconnects, pingsSent, pingsFailed, bytesIn, bytesOut, messagesIn, messagesOut, eventSubscribers, eventsDropped, samples: [{name, labels: {label: value}, value}]}"
        ) { [self] call in
            // Scraped first: the samples were taken before the counters below, never after.
            var samples = JSONValue.array([])
            if let scrape { samples = MetricSamples.json(await scrape(), prefix: call.string("prefix") ?? "") }
            let s = await peers.snapshot()
            let m = s.metrics
            let totals = s.peers.reduce(into: TrafficCounters()) { t, p in
                t.bytesIn += p.counters.bytesIn
                t.bytesOut += p.counters.bytesOut
                t.messagesIn += p.counters.messagesIn
                t.messagesOut += p.counters.messagesOut
            }
            return [
                "uptimeMs": uptimeMs, "connections": JSONValue(s.connections), "peersConnected": JSONValue(s.connected),
                "dialsStarted": JSONValue(m.dialsStarted), "dialsSucceeded": JSONValue(m.dialsSucceeded), "dialsFailed": JSONValue(m.dialsFailed),
                "inboundAccepted": JSONValue(m.inboundAccepted), "duplicatesClosed": JSONValue(m.duplicatesClosed),
                "rejectedTooManyPeers": JSONValue(m.rejectedTooManyPeers), "rejectedBanned": JSONValue(m.rejectedBanned),
                "bansIssued": JSONValue(m.bansIssued), "violationsReported": JSONValue(m.violationsReported), "disconnects": JSONValue(m.disconnects),
                "pingsSent": JSONValue(m.pingsSent), "pingsFailed": JSONValue(m.pingsFailed),
                "bytesIn": JSONValue(totals.bytesIn), "bytesOut": JSONValue(totals.bytesOut),
                "messagesIn": JSONValue(totals.messagesIn), "messagesOut": JSONValue(totals.messagesOut),
                "eventSubscribers": JSONValue(events.subscriberCount), "eventsDropped": JSONValue(events.droppedTotal),
                "samples": samples,
            ]
        }
    }

    var loglevel: ConsoleMethod {
        ConsoleMethod(
            "loglevel", summary: "Gets the log level, or sets it when level is given.",
            params: [ConsoleParam("level", .string, required: false, "trace, debug, info, notice, warning, error or critical")],
            result: "{level, previous?}"
        ) { [logLevel] call in
            let previous = logLevel.level
            guard let text = call.string("level") else { return ["level": .string(previous.rawValue)] }
            guard let level = Logger.Level(rawValue: text.lowercased()) else {
                throw NodeError.invalidParams("unknown level \(text) (trace, debug, info, notice, warning, error, critical)")
            }
            logLevel.level = level
            return ["level": .string(level.rawValue), "previous": .string(previous.rawValue)]
        }
    }

    var stopMethod: ConsoleMethod {
        ConsoleMethod(
            "stop", summary: "Shuts the node down gracefully (answers first).", result: "{stopping: true}"
        ) { [stop] call in
            call.session.afterResponse(stop)
            return ["stopping": true]
        }
    }
}
