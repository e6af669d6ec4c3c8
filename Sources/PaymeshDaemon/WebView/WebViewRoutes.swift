public import Hummingbird
public import PaymeshConsole
import NIOCore

/// The live web view (Specs/webview.md): `GET /` the page (self-contained, no external fetch),
/// `GET /api/snapshot` the node as JSON, `GET /events` its events as server-sent events.
/// Read-only: no route changes the node.
public struct WebViewRoutes: HTTPRouteGroup {
    /// Paths the gateway cannot use as service names (`ServiceCatalog.reservedNames`).
    public static let paths = ["/", "/api/snapshot", "/events"]
    public static let eventStreamType = "text/event-stream; charset=utf-8"
    /// How long a browser waits before it reconnects a dropped stream (the SSE `retry` field).
    public static let reconnectMillis = 1_000

    let feed: WebViewFeed

    public init(feed: WebViewFeed) { self.feed = feed }

    public func register(on router: Router<BasicRequestContext>) {
        router.get("/") { request, _ -> Response in
            guard Self.hostAllowed(request.head.authority) else { return Self.misdirected }
            return Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
                                            .contentSecurityPolicy: WebViewPage.contentSecurityPolicy],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: WebViewPage.html)))
        }
        router.get("/api/snapshot") { [feed] request, _ -> Response in
            guard Self.hostAllowed(request.head.authority) else { return Self.misdirected }
            let snapshot = await feed.snapshot()
            return Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "no-store"],
                            body: ResponseBody(byteBuffer: ByteBuffer(string: snapshot.description)))
        }
        router.get("/events") { [feed] request, _ -> Response in
            guard Self.hostAllowed(request.head.authority) else { return Self.misdirected }
            guard let client = await feed.join() else {
                return Response(status: .serviceUnavailable, headers: [.retryAfter: "5"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: "too many web view clients (\(WebViewFeed.maxClients))\n")))
            }
            return Response(status: .ok, headers: [.contentType: Self.eventStreamType, .cacheControl: "no-store"],
                            body: ResponseBody { writer in
                                var dropped: UInt64?
                                do {
                                    try await writer.write(ByteBuffer(string: "retry: \(Self.reconnectMillis)\n" + Self.frame(client.hello)))
                                    for await delivery in client.stream {
                                        switch delivery {
                                        case .message(let m): try await writer.write(ByteBuffer(string: Self.frame(m)))
                                        case .keepalive: try await writer.write(ByteBuffer(string: ": keepalive\n\n"))
                                        }
                                    }
                                    dropped = await feed.leave(client.id)
                                } catch {
                                    _ = await feed.leave(client.id) // the browser went away
                                    throw error
                                }
                                if let dropped {
                                    try await writer.write(ByteBuffer(string: "event: events.dropped\ndata: {\"count\":\(dropped)}\n\n"))
                                }
                                try await writer.finish(nil)
                            })
        }
    }

    /// DNS rebinding guard: a page of another site whose name an attacker points at this
    /// listener's address is same-origin with it, and could read the snapshot. Browsers send the
    /// name they resolved as `Host`, so only an IP literal, `localhost`, or no `Host` is served.
    static func hostAllowed(_ authority: String?) -> Bool {
        guard let authority, !authority.isEmpty else { return true }
        if authority.hasPrefix("[") { return authority.contains("]") } // [IPv6]:port
        let host = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0].lowercased()
        if host == "localhost" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { p in !p.isEmpty && p.count <= 3 && UInt8(p) != nil }
    }

    static var misdirected: Response {
        Response(status: .misdirectedRequest, headers: [.contentType: "text/plain; charset=utf-8"],
                 body: ResponseBody(byteBuffer: ByteBuffer(string: "the web view answers to an IP address or localhost, not to a host name\n")))
    }

    /// One server-sent event; `data` is one line of compact JSON.
    static func frame(_ m: WebViewFeed.Message) -> String { "event: \(m.name)\nid: \(m.id)\ndata: \(m.data)\n\n" }
}
