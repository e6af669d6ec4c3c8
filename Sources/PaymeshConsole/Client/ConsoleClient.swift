import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PaymeshNode
import PaymeshTransport

/// A console client (the `paymesh` CLI, tests, mesh tooling): calls methods over a node's
/// console socket and receives notifications.
///
/// Use within `withConnection`, which owns the socket and closes it when the body returns.
public final class ConsoleClient: Sendable {
    private let writeLine: @Sendable (String) async throws -> Void
    private let state = NIOLockedValueBox(State())
    /// Notifications (`subscribe` events) and responses that answer no pending call (errors
    /// with a null id, for malformed lines sent with `sendRaw`), in arrival order.
    public let incoming: AsyncStream<ConsoleProtocol.Incoming>
    private let incomingContinuation: AsyncStream<ConsoleProtocol.Incoming>.Continuation
    private let eventLoop: any EventLoop

    private struct State {
        var nextID: Int64 = 1
        var waiting: [Int64: EventLoopPromise<Result<JSONValue, ConsoleProtocol.RemoteError>>] = [:]
        var closed: (any Error)?
    }

    private init(eventLoop: any EventLoop, writeLine: @escaping @Sendable (String) async throws -> Void) {
        self.eventLoop = eventLoop
        self.writeLine = writeLine
        (incoming, incomingContinuation) = AsyncStream.makeStream(bufferingPolicy: .bufferingNewest(4096))
    }

    /// Connects to the console at `socketPath`, runs `body`, closes.
    public static func withConnection<R: Sendable>(
        socketPath: String, group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        _ body: @Sendable (ConsoleClient) async throws -> R
    ) async throws -> R {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await ClientBootstrap(group: group).connect(unixDomainSocketPath: socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        } catch {
            // People read "no such file or directory", not NIO's connect(descriptor:addr:size:) text.
            throw NodeError.consoleUnavailable("no node answers at \(socketPath): \(SystemErrorText.describe(error))")
        }
        return try await channel.executeThenClose { inbound, outbound in
            let client = ConsoleClient(eventLoop: channel.channel.eventLoop) { line in try await outbound.write(ByteBuffer(string: line + "\n")) }
            return try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    var framer = ConsoleLineFramer(maxLineBytes: 64 << 20)
                    do {
                        for try await buffer in inbound {
                            for case .line(let line) in framer.append(buffer.readableBytesView) { client.receive(line) }
                        }
                        client.fail(NodeError.consoleUnavailable("the node closed the console connection"))
                    } catch {
                        client.fail(error)
                    }
                }
                defer { group.cancelAll() }
                return try await body(client)
            }
        }
    }

    /// Calls `method`; returns its result, throws `ConsoleProtocol.RemoteError` for an error
    /// response and other errors when the connection fails.
    public func call(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> JSONValue {
        try await callResult(method, params).get()
    }

    /// Like `call`, but a JSON-RPC error is returned rather than thrown.
    public func callResult(_ method: String, _ params: [String: JSONValue] = [:]) async throws -> Result<JSONValue, ConsoleProtocol.RemoteError> {
        let promise = eventLoop.makePromise(of: Result<JSONValue, ConsoleProtocol.RemoteError>.self)
        let (id, failed): (Int64, (any Error)?) = state.withLockedValue { s in
            defer { s.nextID += 1 }
            if let closed = s.closed { return (s.nextID, closed) }
            s.waiting[s.nextID] = promise
            return (s.nextID, nil)
        }
        if let failed {
            promise.fail(failed)
            throw failed
        }
        do {
            try await writeLine(ConsoleProtocol.encodeRequest(method: method, params: params, id: id))
        } catch {
            fail(error)
        }
        return try await promise.futureResult.get()
    }

    /// Sends `text` and a newline as they are (tests of malformed input); answers without a
    /// pending call arrive on `incoming`.
    public func sendRaw(_ text: String) async throws {
        try await writeLine(text)
    }

    private func receive(_ line: [UInt8]) {
        guard let incoming = try? ConsoleProtocol.parseIncoming(line: line) else { return }
        if case .response(id: .int(let n), let result) = incoming,
           let waiter = state.withLockedValue({ $0.waiting.removeValue(forKey: n) }) {
            waiter.succeed(result)
        } else {
            incomingContinuation.yield(incoming)
        }
    }

    private func fail(_ error: any Error) {
        let waiters = state.withLockedValue { s in
            s.closed = s.closed ?? error
            defer { s.waiting.removeAll() }
            return s.waiting
        }
        for (_, w) in waiters { w.fail(error) }
        incomingContinuation.finish()
    }
}
