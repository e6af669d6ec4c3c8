import Foundation
import NIOConcurrencyHelpers

/// A point on a node's monotonic timeline: nanoseconds since its clock's origin.
public struct NodeInstant: InstantProtocol, Hashable, Sendable, CustomStringConvertible {
    public typealias Duration = Swift.Duration
    public let nanoseconds: UInt64

    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public func advanced(by duration: Duration) -> NodeInstant {
        let delta = duration.nanoseconds
        if delta >= 0 { return NodeInstant(nanoseconds: nanoseconds.addingClamped(UInt64(delta))) }
        let back = UInt64(delta.magnitude)
        return NodeInstant(nanoseconds: back > nanoseconds ? 0 : nanoseconds - back)
    }

    public func duration(to other: NodeInstant) -> Duration {
        other.nanoseconds >= nanoseconds ? .nanoseconds(Int64(clamping: other.nanoseconds - nanoseconds))
            : .nanoseconds(-Int64(clamping: nanoseconds - other.nanoseconds))
    }

    public static func < (lhs: NodeInstant, rhs: NodeInstant) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
    public var description: String { "t+\(nanoseconds / 1_000_000)ms" }
}

/// Time for everything above the transport (peers, payments, streams, timers). Production uses
/// `SystemClock`; tests inject a `ManualClock` and move time themselves, so expiries, challenge
/// periods, per-second streams and backoff run in simulated time.
public protocol NodeClock: Sendable {
    /// Monotonic time: durations, timeouts, rate windows, latency.
    var now: NodeInstant { get }
    /// Wall-clock time in Unix milliseconds: what goes on the wire and into the store (channel
    /// expiries, challenge deadlines, receipt and voucher timestamps).
    var unixMillis: UInt64 { get }
    /// Suspends until `deadline` has passed on this clock; throws `CancellationError` when the
    /// task is cancelled first.
    func sleep(until deadline: NodeInstant) async throws
}

extension NodeClock {
    public func sleep(for duration: Duration) async throws { try await sleep(until: now.advanced(by: duration)) }
    /// The monotonic instant at which the wall clock will read `unixMillis` (now if it has).
    public func instant(atUnixMillis target: UInt64) -> NodeInstant {
        let current = unixMillis
        return target <= current ? now : now.advanced(by: .milliseconds(Int64(clamping: target - current)))
    }
}

/// The real clocks: `ContinuousClock` for monotonic time, the system's real-time clock for wall time.
public struct SystemClock: NodeClock {
    private let origin: ContinuousClock.Instant

    public init() { origin = .now }

    public var now: NodeInstant {
        let d = origin.duration(to: .now)
        return NodeInstant(nanoseconds: UInt64(clamping: max(d.nanoseconds, 0)))
    }

    public var unixMillis: UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return UInt64(ts.tv_sec) &* 1_000 &+ UInt64(ts.tv_nsec) / 1_000_000
    }

    public func sleep(until deadline: NodeInstant) async throws {
        let wait = now.duration(to: deadline)
        if wait > .zero { try await Task.sleep(for: wait) } else { try Task.checkCancellation() }
    }
}

/// A clock that moves only when told (`advance(by:)`): sleepers whose deadline has passed are
/// resumed, earliest first. Wall time is `startUnixMillis` plus the elapsed monotonic time.
public final class ManualClock: NodeClock, Sendable {
    private struct Sleeper {
        let id: UInt64
        let deadline: NodeInstant
        let continuation: CheckedContinuation<Void, any Error>
    }
    private struct State {
        var now = NodeInstant(nanoseconds: 0)
        var sleepers: [Sleeper] = []
        var nextID: UInt64 = 0
        var cancelled: Set<UInt64> = []
    }
    private let state = NIOLockedValueBox(State())
    public let startUnixMillis: UInt64

    /// Starts at a fixed wall time (2026-01-01T00:00:00Z) so runs are reproducible.
    public init(startUnixMillis: UInt64 = 1_767_225_600_000) { self.startUnixMillis = startUnixMillis }

    public var now: NodeInstant { state.withLockedValue { $0.now } }
    public var unixMillis: UInt64 { startUnixMillis + now.nanoseconds / 1_000_000 }
    /// How many tasks are sleeping on this clock.
    public var sleeperCount: Int { state.withLockedValue { $0.sleepers.count } }
    /// The earliest deadline anyone sleeps until, if any.
    public var nextDeadline: NodeInstant? { state.withLockedValue { $0.sleepers.map(\.deadline).min() } }

    public func sleep(until deadline: NodeInstant) async throws {
        let id = state.withLockedValue { s -> UInt64 in s.nextID += 1; return s.nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
                let immediate: Result<Void, any Error>? = state.withLockedValue { s in
                    if s.cancelled.remove(id) != nil { return .failure(CancellationError()) }
                    if deadline <= s.now { return .success(()) }
                    s.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: c))
                    return nil
                }
                if let immediate { c.resume(with: immediate) }
            }
        } onCancel: {
            let c: CheckedContinuation<Void, any Error>? = state.withLockedValue { s in
                guard let i = s.sleepers.firstIndex(where: { $0.id == id }) else {
                    s.cancelled.insert(id) // not registered yet: refuse it when it comes
                    return nil
                }
                return s.sleepers.remove(at: i).continuation
            }
            c?.resume(throwing: CancellationError())
        }
    }

    /// Moves time forward and resumes every sleeper now due, earliest deadline first.
    public func advance(by duration: Duration) {
        precondition(duration >= .zero, "a manual clock only moves forward")
        let due: [Sleeper] = state.withLockedValue { s in
            s.now = s.now.advanced(by: duration)
            let now = s.now
            let due = s.sleepers.filter { $0.deadline <= now }.sorted { $0.deadline < $1.deadline }
            s.sleepers.removeAll { $0.deadline <= now }
            return due
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Moves time to `instant` (no-op if it has passed).
    public func advance(to instant: NodeInstant) {
        let current = now
        if instant > current { advance(by: current.duration(to: instant)) }
    }
}

extension Duration {
    /// The duration in whole nanoseconds (clamped to Int64).
    var nanoseconds: Int64 {
        let (s, attos) = components
        let (ns, overflow) = s.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return s < 0 ? .min : .max }
        return ns.addingClamped(attos / 1_000_000_000)
    }
}

extension FixedWidthInteger {
    func addingClamped(_ other: Self) -> Self {
        let (r, o) = addingReportingOverflow(other)
        return o ? (other < 0 ? .min : .max) : r
    }
}
