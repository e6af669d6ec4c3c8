import NIOConcurrencyHelpers
import NIOCore
import PaymeshNode

/// One console connection as methods see it: a way to send notifications, to run a
/// subscription for as long as the connection lives, and to act after the response is sent.
public final class ConsoleSession: Sendable {
    public typealias Work = @Sendable () async -> Void

    private let writeLine: @Sendable (String) async throws -> Void
    private let spawner: AsyncStream<Work>.Continuation
    let spawned: AsyncStream<Work>
    private let state = NIOLockedValueBox(State())

    private struct State {
        var subscriptions: Set<String> = []
        var afterResponse: [@Sendable () -> Void] = []
    }

    /// A session whose lines go to `writeLine` (the server's connections; tests; in-process consoles).
    public init(writeLine: @escaping @Sendable (String) async throws -> Void) {
        self.writeLine = writeLine
        (spawned, spawner) = AsyncStream<Work>.makeStream()
    }

    /// Sends a JSON-RPC notification on this connection.
    public func notify(method: String, params: JSONValue) async throws {
        try await writeLine(ConsoleProtocol.encodeNotification(method: method, params: params))
    }

    func send(_ line: String) async throws {
        try await writeLine(line)
    }

    /// Runs `work` as a child of this connection's task group; it is cancelled when the
    /// connection closes. Returns false when `key` already runs (one subscription per topic).
    @discardableResult
    public func startSubscription(_ key: String, _ work: @escaping Work) -> Bool {
        let fresh = state.withLockedValue { $0.subscriptions.insert(key).inserted }
        if fresh { spawner.yield(work) }
        return fresh
    }

    public var subscriptions: Set<String> { state.withLockedValue { $0.subscriptions } }

    /// Runs `action` once the current response has been written (`stop` answers, then stops).
    public func afterResponse(_ action: @escaping @Sendable () -> Void) {
        state.withLockedValue { $0.afterResponse.append(action) }
    }

    public func runAfterResponseActions() {
        let actions = state.withLockedValue { s in defer { s.afterResponse.removeAll() }; return s.afterResponse }
        for a in actions { a() }
    }

    func finish() { spawner.finish() }
}
