import Foundation

/// The tests' seeded generator is the project's one SplitMix64 (PaymeshCrypto), re-exported so
/// every test target that imports PaymeshTestSupport has it.
@_exported import struct PaymeshCrypto.SplitMix64

/// The seed of a randomised test: `PAYMESH_TEST_SEED` (or the test's own variable) if set, else a
/// fresh one. Printed either way, so a failure's output says how to replay it.
public enum TestSeed {
    public static let variable = "PAYMESH_TEST_SEED"

    public static func resolve(_ test: String, variable: String = TestSeed.variable) -> UInt64 {
        let environment = ProcessInfo.processInfo.environment
        let seed = environment[variable].flatMap { UInt64($0) } ?? UInt64.random(in: 1...UInt64.max)
        print("\(test): seed \(seed) (\(variable)=\(seed) replays it)")
        return seed
    }
}

/// A test step that did not finish in time; the message names what was awaited.
public struct TimedOut: Error, CustomStringConvertible {
    public let what: String
    public let seconds: Double

    public init(_ what: String = "the test", after seconds: Double) {
        self.what = what
        self.seconds = seconds
    }

    public var description: String { "timed out after \(seconds) s waiting for \(what)" }
}

/// Runs `body`, failing with `TimedOut` instead of hanging when it takes more than `seconds` of
/// real time. The body is then cancelled, but not waited for: a body that ignores cancellation
/// (an unstructured task it awaits, a blocked write) cannot turn the timeout into a hang. A guard
/// against hangs, not a timed assertion: pick a bound far above the expected duration.
public func withTimeout<T: Sendable>(_ seconds: Double = 30, _ what: String = "the test",
                                     _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    let outcome = FirstOutcome<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            outcome.start(continuation)
            let work = Task {
                let result: Result<T, any Error>
                do { result = .success(try await body()) } catch { result = .failure(error) }
                outcome.finish(result)
            }
            let timer = Task {
                try? await Task.sleep(for: .seconds(seconds))
                if !Task.isCancelled { outcome.finish(.failure(TimedOut(what, after: seconds))) }
            }
            outcome.onFinish { work.cancel(); timer.cancel() }
        }
    } onCancel: {
        outcome.finish(.failure(CancellationError()))
    }
}

/// The first of several outcomes resumes the continuation; the others are dropped.
private final class FirstOutcome<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var continuation: CheckedContinuation<T, any Error>?
    private var early: Result<T, any Error>?
    private var cleanup: (@Sendable () -> Void)?
    private var done = false

    func start(_ c: CheckedContinuation<T, any Error>) {
        lock.lock()
        if let early {
            lock.unlock()
            return c.resume(with: early)
        }
        continuation = c
        lock.unlock()
    }

    func onFinish(_ body: @escaping @Sendable () -> Void) {
        lock.lock()
        if done {
            lock.unlock()
            return body()
        }
        cleanup = body
        lock.unlock()
    }

    func finish(_ result: Result<T, any Error>) {
        lock.lock()
        guard !done else { return lock.unlock() }
        done = true
        let c = continuation, cleanup = self.cleanup
        continuation = nil
        self.cleanup = nil
        if c == nil { early = result }
        lock.unlock()
        c?.resume(with: result)
        cleanup?()
    }
}

/// Re-checks `condition` every 20 ms until it holds or `seconds` pass. Only for state that no
/// event announces (another process's console, a file): in-process tests wait for events instead.
public func eventually(_ seconds: Double = 10, _ condition: @Sendable () async throws -> Bool) async throws -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if try await condition() { return true }
        try await Task.sleep(for: .milliseconds(20))
    }
    return try await condition()
}
