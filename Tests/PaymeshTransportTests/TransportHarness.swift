import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PaymeshCrypto
import PaymeshMessages
import PaymeshMux
import PaymeshNoise
import PaymeshTestSupport
import PaymeshTransport

/// One event loop group for every transport test (real loopback TCP).
let testGroup = MultiThreadedEventLoopGroup(numberOfThreads: 2)

extension StreamProtocolID {
    /// The payments protocol id of Specs/streams.md; the transport itself names no protocol, so
    /// these tests offer it as a node's payments service does.
    static let payments = try! StreamProtocolID("/paymesh/payments/1")
}

func makeEndpoint(identity: IdentityKey = .generate(), handshakeTimeout: TimeAmount = .seconds(10),
                  mux: MuxConfiguration = MuxConfiguration()) throws -> PaymeshEndpoint {
    try PaymeshEndpoint(configuration: .init(identity: identity, features: ["payments/1"], protocols: [.payments],
                                             handshakeTimeout: handshakeTimeout, mux: mux), group: testGroup)
}

/// Two endpoints on loopback with one authenticated connection between them.
struct ConnectedPair {
    let server: PaymeshEndpoint
    let client: PaymeshEndpoint
    /// The client's end of the connection.
    let clientSide: PaymeshConnection
    /// The server's end of the same connection.
    let serverSide: PaymeshConnection

    static func make() async throws -> ConnectedPair {
        let server = try makeEndpoint(), client = try makeEndpoint()
        let address = try await server.listen()
        async let inbound = server.inboundConnections.first { _ in true }
        let c = try await client.connect(to: address)
        guard let s = await inbound else { throw TransportError(.connectionClosed, "no inbound connection") }
        return ConnectedPair(server: server, client: client, clientSide: c, serverSide: s)
    }

    func tearDown() async {
        await clientSide.close()
        await server.shutdown()
        await client.shutdown()
    }
}

/// Waits for the next failure the endpoint reports.
func nextFailure(_ endpoint: PaymeshEndpoint) async -> TransportError? {
    var it = endpoint.failures.makeAsyncIterator()
    return await it.next()
}

/// Echoes every inbound stream's bytes back and half-closes after the peer's FIN.
func serveEcho(_ endpoint: PaymeshEndpoint) -> Task<Void, Never> {
    Task {
        await withDiscardingTaskGroup { group in
            for await connection in endpoint.inboundConnections {
                group.addTask {
                    await withDiscardingTaskGroup { streams in
                        for await stream in connection.inboundStreams {
                            streams.addTask {
                                do {
                                    for try await chunk in stream.inbound { try await stream.write(chunk) }
                                    stream.close()
                                } catch {}
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Reads a stream to its end.
func readAll(_ stream: PaymeshStream) async throws -> [UInt8] {
    var out: [UInt8] = []
    for try await chunk in stream.inbound { out += chunk.readableBytesView }
    return out
}

/// A raw TCP peer for feeding an endpoint hand-made (and broken) bytes.
final class RawPeer: @unchecked Sendable {
    let channel: any Channel
    let received: AsyncStream<ByteBuffer>
    private let continuation: AsyncStream<ByteBuffer>.Continuation

    private final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let continuation: AsyncStream<ByteBuffer>.Continuation
        init(_ c: AsyncStream<ByteBuffer>.Continuation) { continuation = c }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) { continuation.yield(unwrapInboundIn(data)) }
        func channelInactive(context: ChannelHandlerContext) { continuation.finish() }
    }

    /// `from`: a loopback source address to bind (127.0.0.x); `autoRead: false` makes a peer that
    /// reads only when asked (`channel.read()`), e.g. one that never reads what it is sent.
    init(connectingTo address: SocketAddress, from source: String? = nil, autoRead: Bool = true) async throws {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        self.received = stream
        self.continuation = continuation
        var bootstrap = ClientBootstrap(group: testGroup)
            .channelOption(.autoRead, value: autoRead)
            .channelInitializer { ch in ch.pipeline.addHandler(Collector(continuation)) }
        if let source { bootstrap = bootstrap.bind(to: try SocketAddress(ipAddress: source, port: 0)) }
        channel = try await bootstrap.connect(to: address).get()
    }

    func send(_ bytes: [UInt8]) async throws {
        try await channel.writeAndFlush(ByteBuffer(bytes: bytes)).get()
    }

    /// Sends a Noise message with its 2-byte length prefix.
    func sendFrame(_ message: [UInt8]) async throws {
        var out = ByteBuffer()
        try NoiseFraming.writeFrame(message, into: &out)
        try await channel.writeAndFlush(out).get()
    }

    private var decoder = NoiseFrameDecoder()
    private lazy var iterator = received.makeAsyncIterator()

    /// Reads the next whole Noise message (2-byte length prefix removed), nil at EOF.
    func readFrame() async throws -> [UInt8]? {
        while true {
            if let m = try decoder.nextMessage() { return Array(m.readableBytesView) }
            guard let chunk = await iterator.next() else { return nil }
            decoder.append(chunk)
        }
    }

    /// Returns once the remote closed the TCP connection (reads until EOF).
    func waitForClose() async {
        while await iterator.next() != nil {}
    }

    func close() async { try? await channel.close() }
}

/// Runs the initiator side of the real Paymesh handshake over a RawPeer (for tests that then
/// misbehave after it).
func rawHandshake(_ peer: RawPeer, identity: IdentityKey = .generate()) async throws -> (EstablishedSession, [UInt8]) {
    var hs = try PaymeshHandshake(role: .initiator, local: LocalIdentity(identity: identity, features: []))
    try await peer.sendFrame(try hs.start()!)
    guard let m2 = try await peer.readFrame() else { throw TransportError(.connectionClosed) }
    let out = try hs.receive(m2)
    try await peer.sendFrame(out.reply!)
    return (out.established!, out.reply!)
}

/// The 13 message types, one valid example each, from Specs/vectors/messages.json.
func allMessageExamples() throws -> [Message] {
    struct File: Decodable {
        struct Valid: Decodable { let type: Int; let frame_hex: String }
        let valid: [Valid]
    }
    let file = try TestVectors.load(File.self, spec: "messages.json")
    var codec = PaymentStreamCodec()
    var seen = Set<Int>()
    var out: [Message] = []
    for v in file.valid where !seen.contains(v.type) {
        seen.insert(v.type)
        codec.feed([UInt8](hex: v.frame_hex)!)
        guard let m = try codec.nextMessage() else { throw TransportError(.invalidState, "vector did not decode") }
        out.append(m)
    }
    return out
}
