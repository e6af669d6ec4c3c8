/// Capped exponential backoff with jitter for redials.
///
/// The delay before retry number `attempt` (0-based) is `min(maximum, initial · multiplierᵃᵗᵗᵉᵐᵖᵗ)`
/// scaled by a factor drawn uniformly from `[1 − jitter, 1]`. Randomness is passed in, so a
/// test fixes it.
public struct BackoffPolicy: Hashable, Sendable {
    public var initial: Duration
    public var maximum: Duration
    public var multiplier: Double
    /// Fraction of the delay that is random, 0…1 (0.5: the delay lies in [d/2, d]).
    public var jitter: Double

    public init(initial: Duration = .milliseconds(500), maximum: Duration = .seconds(60),
                multiplier: Double = 2, jitter: Double = 0.5) {
        precondition(initial > .zero && maximum >= initial && multiplier >= 1 && (0...1).contains(jitter))
        self.initial = initial
        self.maximum = maximum
        self.multiplier = multiplier
        self.jitter = jitter
    }

    /// The capped delay without jitter.
    public func ceiling(attempt: Int) -> Duration {
        let initialSeconds = initial.seconds, maximumSeconds = maximum.seconds
        // Exponent clamped: 2^64 seconds already saturates every sane cap.
        let grown = initialSeconds * pow(multiplier, Double(min(max(attempt, 0), 64)))
        return .seconds(min(grown, maximumSeconds))
    }

    public func delay(attempt: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let ceiling = ceiling(attempt: attempt)
        let factor = 1 - jitter * Double.random(in: 0..<1, using: &random)
        return .seconds(ceiling.seconds * factor)
    }
}

extension Duration {
    /// Whole and fractional seconds as a `Double`.
    public var seconds: Double {
        let (s, attos) = components
        return Double(s) + Double(attos) / 1e18
    }

    /// Milliseconds as a `Double` (console output).
    public var milliseconds: Double { seconds * 1000 }
}

private func pow(_ base: Double, _ exponent: Double) -> Double {
    var result = 1.0
    for _ in 0..<Int(exponent) { result *= base }
    return result
}
