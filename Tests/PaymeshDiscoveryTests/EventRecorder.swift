import Synchronization
import PaymeshDiscovery

/// Collects a discovery stream in the background so tests can wait for an event with a deadline.
final class EventRecorder: Sendable {
    private final class Log: Sendable {
        let events = Mutex<[DiscoveryEvent]>([])
    }

    private let log = Log()
    private let task: Task<Void, Never>

    init(_ stream: AsyncStream<DiscoveryEvent>) {
        let log = self.log
        task = Task {
            for await event in stream { log.events.withLock { $0.append(event) } }
        }
    }

    var all: [DiscoveryEvent] { log.events.withLock { $0 } }

    /// The first recorded event (from index `after` on) that matches, waiting up to `timeout`.
    func first(after: Int = 0, within timeout: Duration = .seconds(6),
               where match: (DiscoveryEvent) -> Bool) async -> DiscoveryEvent? {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let hit = log.events.withLock({ $0.dropFirst(after).first(where: match) }) { return hit }
            if ContinuousClock.now >= deadline { return nil }
            try? await Task.sleep(for: .milliseconds(25))
        }
    }

    func found(_ name: String, after: Int = 0) async -> DiscoveredPeer? {
        let event = await first(after: after) {
            if case .found(let peer) = $0 { return peer.instanceName == name }
            return false
        }
        guard case .found(let peer) = event else { return nil }
        return peer
    }

    func published(after: Int = 0) async -> String? {
        guard case .published(let name) = await first(after: after, where: {
            if case .published = $0 { return true } else { return false }
        }) else { return nil }
        return name
    }

    deinit { task.cancel() }
}
