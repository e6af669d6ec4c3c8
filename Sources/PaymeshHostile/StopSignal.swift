import Foundation

/// Lets a caller end a running attack early (e.g. the soak's memory cap). Thread-safe.
public final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var stopped = false
    public init() {}
    public func stop() { lock.withLock { stopped = true } }
    public var isStopped: Bool { lock.withLock { stopped } }
}

/// Where the node under attack listens.
public struct HostileTarget: Sendable {
    public var host: String
    public var port: Int
    public init(host: String = "127.0.0.1", port: Int) {
        self.host = host
        self.port = port
    }
}

/// What one attack did, in counts (the meaning of each key is given where the attack is).
public struct AttackReport: Sendable, CustomStringConvertible {
    public let name: String
    public var seconds: Double = 0
    public var counts: [String: Int] = [:]
    /// The first failure seen on the attacker's side, for the log.
    public var firstError: String?

    public init(name: String) { self.name = name }

    public subscript(_ key: String) -> Int {
        get { counts[key] ?? 0 }
        set { counts[key] = newValue }
    }

    mutating func note(_ error: HostileError) {
        if firstError == nil { firstError = error.description }
    }

    public var description: String {
        let figures = counts.keys.sorted().map { "\($0)=\(counts[$0]!)" }.joined(separator: " ")
        return "\(name) \(String(format: "%.1f", seconds)) s: \(figures)" + (firstError.map { " (first error: \($0))" } ?? "")
    }
}
