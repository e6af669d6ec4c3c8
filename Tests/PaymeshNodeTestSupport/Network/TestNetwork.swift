import Foundation
import PaymeshCrypto
public import PaymeshMessages
public import PaymeshNode
import PaymeshTestSupport

/// N nodes in this process over a `MemoryNetwork` (LDK's `create_network`): identity keys and
/// randomness from one seed, one `ManualClock` shared by all, each node a `PeerManager` and a
/// `PaymentsService` over its memory transport with a real channel store in a temporary
/// directory. Payment flows, closes, disputes, challenge periods and re-establishment run on it
/// in milliseconds: time moves only when the test calls `advance(by:)`.
///
/// The seed is printed; `PAYMESH_TEST_SEED=<n>` replays a run.
public final class TestNetwork: Sendable {
    /// The asset most tests pay in.
    public static let usdc = try! Asset(id: "USDC", decimals: 6)

    public let seed: UInt64
    public let clock: ManualClock
    public let memory: MemoryNetwork
    public let nodes: [TestNode]

    private init(seed: UInt64, clock: ManualClock, memory: MemoryNetwork, nodes: [TestNode]) {
        self.seed = seed
        self.clock = clock
        self.memory = memory
        self.nodes = nodes
    }

    /// Creates and starts `count` nodes. `configure` may change each node's setup (by index).
    public static func create(_ count: Int, seed: UInt64? = nil, test: String = #function,
                              configure: (Int, inout NodeSetup) -> Void = { _, _ in }) async throws -> TestNetwork {
        let seed = seed ?? TestSeed.resolve(test)
        var keys = SplitMix64(seed: seed)
        let clock = ManualClock()
        let memory = MemoryNetwork()
        var nodes: [TestNode] = []
        for i in 0..<count {
            var setup = NodeSetup()
            configure(i, &setup)
            let node = TestNode(index: i, key: Self.key(&keys), directory: Self.temporaryDirectory(), port: MemoryNetwork.firstPort + i,
                                network: memory, clock: clock, random: NodeRandom(SplitMix64(seed: keys.next())), setup: setup)
            nodes.append(node)
        }
        let network = TestNetwork(seed: seed, clock: clock, memory: memory, nodes: nodes)
        do {
            for node in nodes { try await node.start() }
        } catch {
            await network.shutdown()
            throw error
        }
        return network
    }

    public subscript(_ index: Int) -> TestNode { nodes[index] }

    /// Connects node `a` to node `b` and waits until both sides have the connection.
    public func connect(_ a: Int, _ b: Int) async throws {
        try await nodes[a].connect(to: nodes[b])
        try await nodes[b].waitUntilConnected(to: nodes[a])
    }

    /// Cuts the link between `a` and `b` (both see the connection fail).
    @discardableResult
    public func disconnect(_ a: Int, _ b: Int) -> Int { memory.disconnect(nodes[a].id, nodes[b].id) }

    /// Holds what node `a` writes to node `b` until `release(a, b)` (see `MemoryNetwork.hold`).
    @discardableResult
    public func hold(_ a: Int, _ b: Int) -> Int { memory.hold(from: nodes[a].id, to: nodes[b].id) }
    public func release(_ a: Int, _ b: Int) { memory.release(from: nodes[a].id, to: nodes[b].id) }

    /// Moves the shared clock: due timers (challenge periods, redials, close retries) fire.

    public func advance(by duration: Duration) { clock.advance(by: duration) }

    /// Stops every node and removes their directories.
    public func shutdown() async {
        for node in nodes { await node.retire() }
        for node in nodes { try? FileManager.default.removeItem(atPath: node.directory) }
    }

    /// A valid secp256k1 key from the generator (a 32-byte draw is a valid scalar almost always).
    private static func key(_ random: inout SplitMix64) -> IdentityKey {
        while true {
            let bytes = (0..<4).flatMap { _ in withUnsafeBytes(of: random.next().bigEndian, Array.init) }
            if let key = try? Secp256k1.PrivateKey(rawRepresentation: bytes) { return IdentityKey(privateKey: key) }
        }
    }

    private static func temporaryDirectory() -> String {
        let path = NSTemporaryDirectory() + "/pmnet-\(UUID().uuidString.prefix(8))"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        return path
    }
}

/// Runs `body` on a fresh network of `count` nodes and shuts it down afterwards, whatever
/// happens; fails after `timeout` seconds of real time instead of hanging.
public func withTestNetwork<T: Sendable>(_ count: Int, seed: UInt64? = nil, timeout: Double = 60, test: String = #function,
                                         configure: @escaping @Sendable (Int, inout NodeSetup) -> Void = { _, _ in },
                                         _ body: @escaping @Sendable (TestNetwork) async throws -> T) async throws -> T {
    let network = try await TestNetwork.create(count, seed: seed, test: test, configure: configure)
    do {
        let result = try await withTimeout(timeout, "\(test) on a network of \(count) nodes (seed \(network.seed))") { try await body(network) }
        await network.shutdown()
        return result
    } catch {
        await network.shutdown()
        throw error
    }
}
