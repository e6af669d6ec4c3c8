public import Hummingbird
import NIOCore

/// `GET /metrics`: the node's metrics in the Prometheus text exposition format (docs/operations.md).
public struct MetricsRoutes: HTTPRouteGroup {
    /// The content type Prometheus expects for the text format.
    public static let contentType = "text/plain; version=0.0.4; charset=utf-8"

    let collector: NodeMetricsCollector

    public init(collector: NodeMetricsCollector) { self.collector = collector }

    public func register(on router: Router<BasicRequestContext>) {
        router.get("/metrics") { [collector] _, _ -> Response in
            let text = await collector.scrape()
            return Response(status: .ok, headers: [.contentType: Self.contentType],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
        }
    }
}
