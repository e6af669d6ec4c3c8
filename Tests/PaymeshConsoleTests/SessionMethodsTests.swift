@testable import PaymeshConsole
import PaymeshNode
import Testing

/// `subscribe` and `help` on a registry with an in-memory session: typed events published into
/// the hub come out as `event` notification lines, filtered by topic; a subscriber that does not
/// keep up gets an `events.dropped` notice with the count.
@Suite struct SessionMethodsTests {
    /// A console connection without a socket: lines go to an `AsyncStream`; spawned work runs in
    /// a task until the test ends the session.
    final class Wire: Sendable {
        let lines: AsyncStream<String>
        let session: ConsoleSession
        private let runner: Task<Void, Never>

        init() {
            let (lines, sink) = AsyncStream<String>.makeStream()
            self.lines = lines
            let session = ConsoleSession { line in sink.yield(line) }
            self.session = session
            runner = Task {
                await withDiscardingTaskGroup { group in
                    for await work in session.spawned { group.addTask { await work() } }
                    group.cancelAll()
                }
            }
        }

        func close() async {
            session.finish()
            runner.cancel()
            await runner.value
        }
    }

    func call(_ registry: ConsoleRegistry, _ method: String, _ params: [String: JSONValue] = [:], on wire: Wire) async throws -> JSONValue {
        let line = try #require(await registry.handle(ConsoleProtocol.Request(method: method, params: params, id: .int(1)), session: wire.session))
        guard case .response(_, let result) = try ConsoleProtocol.parseIncoming(line: Array(line.utf8)) else { throw NodeError.internalError(line) }
        return try result.get()
    }

    func nextEvent(_ iterator: inout AsyncStream<String>.Iterator) async throws -> JSONValue? {
        guard let line = await iterator.next() else { return nil }
        guard case .notification("event", let params) = try ConsoleProtocol.parseIncoming(line: Array(line.utf8)) else { return nil }
        return params
    }

    @Test func unknownTopicsAreRefused() async throws {
        let hub = NodeEventHub(), registry = ConsoleRegistry()
        registry.register(SessionMethods(registry: registry, events: hub))
        let wire = Wire()
        let line = try #require(await registry.handle(ConsoleProtocol.Request(method: "subscribe", params: ["topics": ["peer", "peers"]], id: .int(1)),
                                                      session: wire.session))
        guard case .response(_, .failure(let error)) = try ConsoleProtocol.parseIncoming(line: Array(line.utf8)) else {
            Issue.record("subscribe to an unknown topic was accepted: \(line)"); return
        }
        #expect(error.code == -32602 && error.message == "unknown topic peers (topics: channel, discovery, graph, htlc, market, payment, peer, service)", "\(error)")
        #expect(hub.subscriberCount == 0, "nothing subscribed")
        await wire.close()
    }

    @Test func subscribedTopicsArriveAsNotificationsInOrder() async throws {
        let hub = NodeEventHub(), registry = ConsoleRegistry()
        registry.register(SessionMethods(registry: registry, events: hub))
        let wire = Wire()
        #expect(try await call(registry, "subscribe", ["topics": ["discovery"]], on: wire) == ["subscribed": ["discovery"], "already": false])
        #expect(try await call(registry, "subscribe", on: wire)["already"] == true)
        #expect(hub.subscriberCount == 1, "subscribed before the answer; the second call added none")
        let peer = ConsoleEventsTests.peer
        hub.publish(.peer(.peerDown(peer, reason: "filtered out")))
        hub.publish(.peer(.discoveryLost(peer)))
        hub.publish(.discoveryStatus(.off("bye")))
        var lines = wire.lines.makeAsyncIterator()
        #expect(try await nextEvent(&lines) == ["type": "discovery.lost", "id": .string(peer.description)])
        #expect(try await nextEvent(&lines) == ["type": "discovery.status", "active": false, "reason": "bye"])
        await wire.close()
        #expect(hub.subscriberCount == 0, "a closed session leaves the hub")
    }

    @Test func helpListsTheRegisteredGroups() async throws {
        let hub = NodeEventHub(), registry = ConsoleRegistry()
        registry.register(SessionMethods(registry: registry, events: hub))
        let wire = Wire()
        let names = try await call(registry, "help", on: wire)["methods"]?.arrayValue?.compactMap { $0["name"]?.stringValue }
        #expect(names == ["help", "subscribe"])
        await wire.close()
    }
}
