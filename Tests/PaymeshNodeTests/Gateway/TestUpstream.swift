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
                let text = "upstream \(head.method.rawValue) \(head.uri)"
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
