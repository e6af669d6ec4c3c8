import Foundation

/// Runs a blocking attack on its own thread and awaits it, so that async tests and the bench do
/// not block a thread of Swift's cooperative pool (the node under test may need those).
public func offload<T: Sendable>(_ name: String = "hostile", _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (c: CheckedContinuation<T, any Error>) in
        let thread = Thread { c.resume(with: Result { try body() }) }
        thread.name = name
        thread.stackSize = 1 << 21
        thread.start()
    }
}
