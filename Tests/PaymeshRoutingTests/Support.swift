import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshRouting
import Testing

/// Node `i`'s address: 19 zero bytes then i (so ids sort by i).
func node(_ i: Int) -> EthereumAddress {
    try! EthereumAddress(rawRepresentation: [UInt8](repeating: 0, count: 19) + [UInt8(i)])
}

/// Channel `i`'s id: 31 zero bytes then i.
func channel(_ i: Int) -> ChannelID {
    try! ChannelID([UInt8](repeating: 0, count: 31) + [UInt8(i)])
}

/// An edge with simple defaults: capacity 10⁹, no HTLC bounds, enabled.
func edge(_ id: Int, _ from: Int, _ to: Int, base: UInt128 = 0, ppm: UInt64 = 0, delta: UInt64 = 60_000,
          capacity: UInt128 = 1_000_000_000, min: UInt128 = 0, max: UInt128 = 1_000_000_000, enabled: Bool = true) -> RoutingGraph.Edge {
    RoutingGraph.Edge(channelID: channel(id), from: node(from), to: node(to), capacity: Amount(capacity), feeBase: Amount(base),
                      feePPM: ppm, htlcMinimum: Amount(min), htlcMaximum: Amount(max), expiryDeltaMillis: delta, enabled: enabled)
}

let t0: UInt64 = 1_767_225_600_000

func query(_ from: Int, _ to: Int, _ amount: UInt128, now: UInt64 = t0, finalDelta: UInt64 = 3_600_000) -> RouteQuery {
    RouteQuery(source: node(from), target: node(to), amount: Amount(amount), now: now, finalExpiryDeltaMillis: finalDelta)
}

extension Route {
    /// The node indices after the source (the last byte of each address).
    var path: [Int] { hops.map { Int($0.nodeID.rawRepresentation[19]) } }
}

/// The error `body` throws, or nil.
func failure<T>(_ body: () throws -> T) -> RoutingError? {
    do {
        _ = try body()
        return nil
    } catch let error as RoutingError {
        return error
    } catch {
        Issue.record("not a RoutingError: \(error)")
        return nil
    }
}

extension RoutingError {
    var isNoRoute: Bool { kind == "no_route" }
}
