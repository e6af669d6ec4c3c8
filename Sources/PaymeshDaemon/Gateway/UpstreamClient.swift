import NIOCore
import NIOHTTP1
import NIOPosix
import PaymeshNode

/// What the upstream answered.
struct UpstreamResponse: Sendable {
    var status: Int
    var headers: [(String, String)]
    var body: ByteBuffer
}

/// A minimal HTTP/1.1 client on NIO for the gateway's upstreams (loopback only, one connection per
/// request, `Connection: close`). Bounded: the answer's body is refused past `maxResponseBytes`,
/// the whole exchange past `timeout` (the event loop's timer: transport level).
enum UpstreamClient {
    /// An answer larger than this is refused (502): the gateway buffers what it forwards.
    static let maxResponseBytes = 16 * 1_024 * 1_024
    static let connectTimeout = TimeAmount.seconds(10)
    static let timeout = TimeAmount.seconds(60)

    static func send(method: String, to upstream: UpstreamURL, target: String, headers: [(String, String)], body: ByteBuffer?,
                     group: any EventLoopGroup, maxResponseBytes limit: Int = UpstreamClient.maxResponseBytes, timeout: TimeAmount = UpstreamClient.timeout,
                     onHead: (@Sendable (Int, [(String, String)]) -> Void)? = nil) async throws(NodeError) -> UpstreamResponse {
        let promise = group.next().makePromise(of: UpstreamResponse.self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(connectTimeout)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ResponseCollector(promise: promise, limit: limit, onHead: onHead))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: upstream.host, port: upstream.port).get()
        } catch {
            promise.fail(error)
            throw .internalError("the upstream \(upstream.host):\(upstream.port) does not answer: \(error)")
        }
        let timer = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(ChannelError.connectTimeout(timeout))
            channel.close(promise: nil)
        }
        defer {
            timer.cancel()
            channel.close(promise: nil)
        }
        writeRequest(on: channel, method: method, to: upstream, target: target, headers: headers, body: body)
        do {
            return try await promise.futureResult.get()
        } catch {
            throw .internalError("the upstream \(upstream.host):\(upstream.port) failed: \(error)")
        }
    }
}

extension UpstreamClient {
    /// Writes one request (`Connection: close`, the upstream's `Host`) on a connected channel.
    static func writeRequest(on channel: any Channel, method: String, to upstream: UpstreamURL, target: String, headers: [(String, String)],
                             body: ByteBuffer?) {
        var head = HTTPRequestHead(version: .http1_1, method: HTTPMethod(rawValue: method), uri: target)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.replaceOrAdd(name: "Host", value: upstream.host.contains(":") ? "[\(upstream.host)]:\(upstream.port)" : "\(upstream.host):\(upstream.port)")
        head.headers.replaceOrAdd(name: "Connection", value: "close")
        if let body { head.headers.replaceOrAdd(name: "Content-Length", value: String(body.readableBytes)) }
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if let body { channel.write(HTTPClientRequestPart.body(.byteBuffer(body)), promise: nil) }
        channel.writeAndFlush(HTTPClientRequestPart.end(nil), promise: nil)
    }
}

/// Collects one response (head, body up to `limit`, end) into the promise.
private final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<UpstreamResponse>
    private let limit: Int
    private var head: HTTPResponseHead?
    private var body = ByteBuffer()
    private var done = false
    private let onHead: (@Sendable (Int, [(String, String)]) -> Void)?

    init(promise: EventLoopPromise<UpstreamResponse>, limit: Int, onHead: (@Sendable (Int, [(String, String)]) -> Void)?) {
        self.promise = promise
        self.limit = limit
        self.onHead = onHead
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch unwrapInboundIn(data) {
        case .head(let h):
            head = h
            onHead?(Int(h.status.code), h.headers.map { ($0.name, $0.value) })
        case .body(var chunk):
            guard body.readableBytes + chunk.readableBytes <= limit else {
                finish(.failure(ChannelError.inappropriateOperationForState))
                context.close(promise: nil)
                return
            }
            body.writeBuffer(&chunk)
        case .end(let trailers):
            guard let head else { return finish(.failure(ChannelError.inputClosed)) }
            let fields = (head.headers.map { ($0.name, $0.value) }) + (trailers?.map { ($0.name, $0.value) } ?? [])
            finish(.success(UpstreamResponse(status: Int(head.status.code), headers: fields, body: body)))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(ChannelError.inputClosed))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }

    private func finish(_ result: Result<UpstreamResponse, any Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(result)
    }
}
