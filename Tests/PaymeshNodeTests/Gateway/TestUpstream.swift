import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import NIOPosix

/// A tiny upstream HTTP/1.1 server on loopback for gateway tests: answers every request with
/// 200 and "upstream <METHOD> <URI>" and counts the requests it served (what the gateway must
/// never reach without a valid, durable payment).
final class TestUpstream: Sendable {
    let port: Int
    private let channel: any Channel
    private let served: NIOLockedValueBox<Int>

    var calls: Int { served.withLockedValue { $0 } }

    private init(port: Int, channel: any Channel, served: NIOLockedValueBox<Int>) {
        self.port = port
        self.channel = channel
        self.served = served
    }

    static func start() async throws -> TestUpstream {
        let served = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(served: served))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestUpstream(port: channel.localAddress?.port ?? 0, channel: channel, served: served)
    }

    func stop() async { try? await channel.close() }

    /// "upstream <METHOD> <URI>", or for metered tests: `…/bytes/<n>` n bytes ("0123456789" repeated),
    /// `…/lines/<n>` n lines "line <i>\n".
    static func answer(_ method: String, _ uri: String) -> String {
        let parts = uri.split(separator: "/")
        if parts.count >= 2, let n = Int(parts[parts.count - 1]), n <= 1_000_000 {
            switch parts[parts.count - 2] {
            case "bytes": return String((0..<n).map { Character(String($0 % 10)) })
            case "lines": return (0..<n).map { "line \($0)\n" }.joined()
            default: break
            }
        }
        return "upstream \(method) \(uri)"
    }

    private final class Handler: ChannelInboundHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias OutboundOut = HTTPServerResponsePart
        let served: NIOLockedValueBox<Int>
        var head: HTTPRequestHead?

        init(served: NIOLockedValueBox<Int>) { self.served = served }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): head = h
            case .body: break
            case .end:
                guard let head else { return }
                served.withLockedValue { $0 += 1 }
                let text = TestUpstream.answer(head.method.rawValue, head.uri)
                var response = HTTPResponseHead(version: head.version, status: .ok)
                response.headers.add(name: "Content-Type", value: "text/plain")
                response.headers.add(name: "Content-Length", value: String(text.utf8.count))
                response.headers.add(name: "Connection", value: "close")
                context.write(wrapOutboundOut(.head(response)), promise: nil)
                context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: text)))), promise: nil)
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
            }
        }
    }
}
