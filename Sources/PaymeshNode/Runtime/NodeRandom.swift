import NIOConcurrencyHelpers

/// Randomness for the decisions above the transport (channel id salts, backoff jitter, later
/// gossip peer selection). Secret keys never come from here: they come from the crypto layer's
/// CSPRNG. Production uses the system generator; tests inject a seeded one so a run replays.
public final class NodeRandom: Sendable {
    private let generator: NIOLockedValueBox<any RandomNumberGenerator & Sendable>

    public init(_ generator: some RandomNumberGenerator & Sendable) {
        self.generator = NIOLockedValueBox(generator)
    }

    /// The operating system's generator.
    public static func system() -> NodeRandom { NodeRandom(SystemRandomNumberGenerator()) }

    public func next() -> UInt64 { generator.withLockedValue { $0.next() } }

    public func bytes(_ count: Int) -> [UInt8] {
        generator.withLockedValue { g in (0..<count).map { _ in UInt8.random(in: 0...255, using: &g) } }
    }

    /// A `RandomNumberGenerator` view for APIs that take `inout some RandomNumberGenerator`.
    public var generatorView: Generator { Generator(source: self) }

    public struct Generator: RandomNumberGenerator {
        let source: NodeRandom
        public mutating func next() -> UInt64 { source.next() }
    }
}
