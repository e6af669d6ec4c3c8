import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PaymeshNode

/// The console: JSON-RPC 2.0 over newline-delimited JSON on a Unix socket (Specs/console.md).
///
/// `bind()` creates the socket (mode 0600, replacing a stale one); `run()` serves connections
/// until its task is cancelled, then closes them and removes the socket file. Each connection
/// is read line by line; bad input is answered with an error and the session continues.
public final class ConsoleServer: Sendable {
    /// At most this many console connections at once; more are closed after an error line.
    public static let maxSessions = 64

    public let path: String
    public let registry: ConsoleRegistry
    private let group: any EventLoopGroup
    private let logger: Logger
    private let maxLineBytes: Int
    private let channel = NIOLockedValueBox<NIOAsyncChannel<NIOAsyncChannel<ByteBuffer, ByteBuffer>, Never>?>(nil)
    private let sessionCount = NIOLockedValueBox(0)

    public init(path: String, registry: ConsoleRegistry, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
                maxLineBytes: Int = ConsoleLineFramer.defaultMaxLineBytes, logger: Logger) {
        self.path = path
        self.registry = registry
        self.group = group
        self.logger = logger
        self.maxLineBytes = maxLineBytes
    }

    /// Creates the socket. Throws if another node answers on it.
    public func bind() async throws {
        try ConsoleSocketFile.removeStale(path)
        let server = try await ConsoleSocketFile.withOwnerOnlyMode(path) {
            try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 64)
                .bind(unixDomainSocketPath: path) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                    }
                }
        }
        channel.withLockedValue { $0 = server }
    }

    /// Serves until cancelled; then closes every session and removes the socket file.
    public func run() async {
        guard let server = channel.withLockedValue({ $0 }) else { preconditionFailure("ConsoleServer.run() before bind()") }
        defer { ConsoleSocketFile.remove(path) }
        do {
            try await server.executeThenClose { inbound in
                try await withThrowingDiscardingTaskGroup { group in
                    for try await connection in inbound {
                        group.addTask { await self.serve(connection) }
                    }
                }
            }
        } catch is CancellationError {
        } catch {
            logger.debug("console server stopped", metadata: ["error": "\(error)"])
        }
    }

    /// Closes the listening socket so `run()` winds down (its sessions end when cancelled).
    public func close() async {
        ConsoleSocketFile.remove(path)
        guard let server = channel.withLockedValue({ $0 }) else { return }
        try? await server.channel.close()
    }

    private func serve(_ connection: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async {
        let admitted = sessionCount.withLockedValue { n in
            guard n < Self.maxSessions else { return false }
            n += 1
            return true
        }
        defer { if admitted { sessionCount.withLockedValue { $0 -= 1 } } }
        do {
            try await connection.executeThenClose { inbound, outbound in
                let session = ConsoleSession { line in
                    try await outbound.write(ByteBuffer(string: line + "\n"))
                }
                guard admitted else {
                    try await session.send(ConsoleProtocol.encodeError(.rateLimited("too many console connections (\(Self.maxSessions))"), id: .null))
                    return
                }
                try await withThrowingDiscardingTaskGroup { group in
                    group.addTask {
                        defer { session.finish() }
                        try await self.readRequests(inbound, session: session)
                    }
                    for await work in session.spawned {
                        group.addTask { await work() }
                    }
                    group.cancelAll() // the reader ended: stop this connection's subscriptions
                }
            }
        } catch {
            logger.trace("console session ended", metadata: ["error": "\(error)"])
        }
    }

    private func readRequests(_ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, session: ConsoleSession) async throws {
        var framer = ConsoleLineFramer(maxLineBytes: maxLineBytes)
        for try await buffer in inbound {
            for event in framer.append(buffer.readableBytesView) {
                switch event {
                case .overlong:
                    try await session.send(ConsoleProtocol.encodeError(
                        .invalidRequest("request line longer than \(maxLineBytes) bytes"), id: .null))
                case .line(let line):
                    switch ConsoleProtocol.parse(line: line) {
                    case .failure(let failure):
                        try await session.send(ConsoleProtocol.encodeError(failure.error, id: failure.id))
                    case .success(let request):
                        if let response = await registry.handle(request, session: session) {
                            try await session.send(response)
                        }
                        session.runAfterResponseActions()
                    }
                }
            }
        }
    }
}
