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
    private let cut: NIOLockedValueBox<Int>

    var calls: Int { served.withLockedValue { $0 } }
    /// Slow answers (`…/slow/<n>/<ms>`) whose connection the gateway closed before their end.
    var closedEarly: Int { cut.withLockedValue { $0 } }

    private init(port: Int, channel: any Channel, served: NIOLockedValueBox<Int>, cut: NIOLockedValueBox<Int>) {
        self.port = port
        self.channel = channel
        self.served = served
        self.cut = cut
    }

    static func start() async throws -> TestUpstream {
        let served = NIOLockedValueBox(0), cut = NIOLockedValueBox(0)
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(Handler(served: served, cut: cut))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return TestUpstream(port: channel.localAddress?.port ?? 0, channel: channel, served: served, cut: cut)
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
        let cut: NIOLockedValueBox<Int>
        var head: HTTPRequestHead?
        var streaming = false

        init(served: NIOLockedValueBox<Int>, cut: NIOLockedValueBox<Int>) {
            self.served = served
            self.cut = cut
        }

        func channelInactive(context: ChannelHandlerContext) {
            if streaming { cut.withLockedValue { $0 += 1 } }
            streaming = false
            context.fireChannelInactive()
        }

        /// `…/slow/<n>/<ms>`: a streamed (chunked) answer of n lines "tick <i>\n", one every ms milliseconds.
        func slow(_ context: ChannelHandlerContext, _ head: HTTPRequestHead, lines: Int, every ms: Int64) {
            var response = HTTPResponseHead(version: head.version, status: .ok)
            response.headers.add(name: "Content-Type", value: "text/event-stream")
            response.headers.add(name: "Transfer-Encoding", value: "chunked")
            context.writeAndFlush(wrapOutboundOut(.head(response)), promise: nil)
            streaming = true
            let loop = context.eventLoop, channel = context.channel
            let ctx = NIOLoopBound(context, eventLoop: loop), handler = NIOLoopBound(self, eventLoop: loop)
            func tick(_ i: Int) {
                loop.scheduleTask(in: .milliseconds(ms)) {
                    guard handler.value.streaming else { return }
                    let c = ctx.value
                    if i == lines {
                        handler.value.streaming = false
                        c.writeAndFlush(handler.value.wrapOutboundOut(.end(nil))).whenComplete { _ in channel.close(promise: nil) }
                        return
                    }
                    c.writeAndFlush(handler.value.wrapOutboundOut(.body(.byteBuffer(ByteBuffer(string: "tick \(i)\n")))), promise: nil)
                    tick(i + 1)
                }
            }
            tick(0)
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let h): head = h
            case .body: break
            case .end:
                guard let head else { return }
                served.withLockedValue { $0 += 1 }
                let parts = head.uri.split(separator: "/")
                if parts.count >= 3, parts[parts.count - 3] == "slow", let n = Int(parts[parts.count - 2]), let ms = Int64(parts[parts.count - 1]) {
                    return slow(context, head, lines: n, every: ms)
                }
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
