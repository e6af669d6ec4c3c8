public import Hummingbird

/// One feature's routes on the node's HTTP listener (`/metrics` now; the 402 gateway and the web
/// view later). The composition root builds the features, then registers one group per feature
/// before the listener binds — the same recipe as console method groups (ARCHITECTURE.md).
public protocol HTTPRouteGroup: Sendable {
    func register(on router: Router<BasicRequestContext>)
}
