import NIOCore
import NIOHTTP1
import NIOPosix
import PaymeshNode

/// One upstream answer read as it arrives (a per-second service, Specs/http402.md §12.6), with
/// demand: the connection reads from the socket only when the consumer asks (`demand()` after each
/// body part), so at most one read's worth of the answer waits in memory. The events of the stream
/// also carry the gateway's own wake-ups (`tick`) so that one loop decides on both.
final class UpstreamStream: Sendable {
    enum Event: Sendable {
        case head(status: Int, headers: [(String, String)])
        case body(ByteBuffer)
        case end
        case failed(String)
        /// A deadline passed or a top-up finished: decide again.
        case tick
    }

    let events: AsyncStream<Event>
    let input: AsyncStream<Event>.Continuation
    private let channel: any Channel

    private init(events: AsyncStream<Event>, input: AsyncStream<Event>.Continuation, channel: any Channel) {
        self.events = events
        self.input = input
        self.channel = channel
    }

    static func open(method: String, to upstream: UpstreamURL, target: String, headers: [(String, String)], body: ByteBuffer?,
                     group: any EventLoopGroup) async throws(NodeError) -> UpstreamStream {
        let (events, input) = AsyncStream.makeStream(of: Event.self)
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(UpstreamClient.connectTimeout)
            .channelOption(.autoRead, value: false)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(PartForwarder(input: input))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: upstream.host, port: upstream.port).get()
        } catch {
            input.finish()
            throw .internalError("the upstream \(upstream.host):\(upstream.port) does not answer: \(error)")
        }
        UpstreamClient.writeRequest(on: channel, method: method, to: upstream, target: target, headers: headers, body: body)
        channel.read()
        return UpstreamStream(events: events, input: input, channel: channel)
    }

    /// Reads on from the upstream (after the consumer took a part).
    func demand() { channel.read() }

    /// Closes the upstream connection (the answer ends; the upstream sees its call closed).
    func close() {
        channel.close(promise: nil)
        input.finish()
    }
}

/// Forwards the parts of one response into the stream; the end, an error or a closed connection
/// finish it.
private final class PartForwarder: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    private let input: AsyncStream<UpstreamStream.Event>.Continuation
    private var done = false

    init(input: AsyncStream<UpstreamStream.Event>.Continuation) { self.input = input }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !done else { return }
        switch unwrapInboundIn(data) {
        case .head(let h): input.yield(.head(status: Int(h.status.code), headers: h.headers.map { ($0.name, $0.value) }))
        case .body(let b): input.yield(.body(b))
        case .end: finish(.end)
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {}

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failed("the upstream closed its connection"))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(.failed("\(error)"))
        context.close(promise: nil)
    }

    private func finish(_ last: UpstreamStream.Event) {
        guard !done else { return }
        done = true
        input.yield(last)
    }
}
