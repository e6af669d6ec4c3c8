import ArgumentParser
import PaymeshCrypto

/// Which nodes of a static mesh (`--no-mdns`) connect to which. Edges are pairs of node
/// indexes `(a, b)` with `a < b`; node `b` dials node `a`.
enum MeshTopology: String, CaseIterable, ExpressibleByArgument {
    /// Every pair.
    case full
    /// i – i+1, and the last back to the first (two neighbours each from 3 nodes on).
    case ring
    /// Node 0 is the hub; every other node connects to it.
    case star
    /// A random spanning tree (each node joins an earlier one) plus n/2 extra random edges;
    /// reproducible with `--seed`.
    case random

    func edges(nodes n: Int, seed: UInt64) -> [[Int]] {
        var set = Set<[Int]>()
        func add(_ a: Int, _ b: Int) { if a != b { set.insert([min(a, b), max(a, b)]) } }
        switch self {
        case .full:
            for a in 0..<n { for b in a + 1..<n { add(a, b) } }
        case .ring:
            for i in 0..<n where n > 1 { add(i, (i + 1) % n) }
        case .star:
            for i in 1..<max(1, n) { add(0, i) }
        case .random:
            var random = SplitMix64(seed: seed)
            for i in 1..<max(1, n) { add(Int(random.next() % UInt64(i)), i) }
            let maxEdges = n * (n - 1) / 2
            let target = min(maxEdges, set.count + n / 2)
            while set.count < target { add(Int(random.next() % UInt64(n)), Int(random.next() % UInt64(n))) }
        }
        return set.sorted { ($0[0], $0[1]) < ($1[0], $1[1]) }
    }
}
