public import PaymeshCrypto

/// The simulation's seeded generator is the project's one SplitMix64 (PaymeshCrypto).
public typealias SeededGenerator = SplitMix64
