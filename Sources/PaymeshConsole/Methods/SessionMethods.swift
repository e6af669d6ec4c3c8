import PaymeshNode

/// Methods about the console connection itself: help, subscribe (Specs/console.md §4, §6).
public struct SessionMethods: ConsoleMethodGroup {
    /// `help` lists what is registered here (held weakly: the registry holds this group's methods).
    weak var registry: ConsoleRegistry?
    let events: NodeEventHub

    public init(registry: ConsoleRegistry, events: NodeEventHub) {
        self.registry = registry
        self.events = events
    }

    public var methods: [ConsoleMethod] { [help, subscribe] }

    var help: ConsoleMethod {
        ConsoleMethod(
            "help", summary: "Lists the methods with their parameters, or describes one.",
            params: [ConsoleParam("method", .string, required: false, "a method name")],
            result: "{methods: [{name, summary, params: [{name, type, required, summary}], result}]}"
        ) { [weak registry] call in
            guard let registry else { throw NodeError.shuttingDown() }
            if let name = call.string("method") {
                guard let m = registry.method(named: name) else { throw NodeError.methodNotFound(name) }
                return ["methods": [m.helpEntry]]
            }
            return ["methods": .array(registry.all.map(\.helpEntry))]
        }
    }

    var subscribe: ConsoleMethod {
        ConsoleMethod(
            "subscribe", summary: "Streams events on this connection as `event` notifications.",
            params: [ConsoleParam("topics", .array, required: false, "topics to receive: peer, discovery, payment, channel, graph, service, htlc, market (default: all)")],
            result: "{subscribed: [topic], already: bool}; then notifications {method: \"event\", params: {type, …}}"
        ) { [events] call in
            var wanted: Set<String>?
            if let list = call.params["topics"]?.arrayValue {
                let names = list.compactMap(\.stringValue)
                guard names.count == list.count, !names.isEmpty else { throw NodeError.invalidParams("topics must be a non-empty array of strings") }
                if let unknown = names.first(where: { !ConsoleEvents.topics.contains($0) }) {
                    throw NodeError.invalidParams("unknown topic \(unknown) (topics: \(ConsoleEvents.topics.joined(separator: ", ")))")
                }
                wanted = Set(names)
            }
            let topics = wanted
            let session = call.session
            // Subscribed before answering: every event published after the response is delivered.
            let subscription = events.subscribe()
            let started = session.startSubscription("events") {
                defer { subscription.cancel() }
                for await delivery in subscription {
                    guard let params = ConsoleEvents.notification(delivery, topics: topics) else { continue }
                    do { try await session.notify(method: "event", params: params) } catch { return }
                }
            }
            if !started { subscription.cancel() }
            return ["subscribed": .array((topics.map { Array($0).sorted() } ?? ["*"]).map { .string($0) }), "already": .bool(!started)]
        }
    }
}
