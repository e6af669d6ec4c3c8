public import NIOCore
public import PaymeshMux

/// One multiplexed stream of a `PaymeshConnection`, carrying one named protocol.
///
/// All state is confined to the connection's event loop; the public methods may be called from
/// anywhere and hop to it. Inbound bytes arrive through `inbound`, an async sequence whose
/// consumption returns yamux window to the peer — a reader that stops reading stops the writer.
public final class PaymeshStream: @unchecked Sendable {
    public let id: StreamID
    public let protocolID: StreamProtocolID
    public let eventLoop: any EventLoop
    /// The bytes the peer sends, in order; finishes at the peer's FIN, throws on reset.
    public let inbound: Inbound

    // Event-loop confined.
    weak var core: MuxHandler?
    private let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    private var writableWaiters: [CheckedContinuation<Void, any Error>] = []
    var finished = false
    /// Why the stream ended (reset, connection closed); later writes fail with it.
    private var terminalError: (any Error)?

    init(id: StreamID, protocolID: StreamProtocolID, eventLoop: any EventLoop, core: MuxHandler) {
        self.id = id
        self.protocolID = protocolID
        self.eventLoop = eventLoop
        self.core = core
        let (stream, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        self.continuation = continuation
        self.inbound = Inbound(stream: stream, id: id, eventLoop: eventLoop, core: core)
    }

    // MARK: Writing

    /// Queues `data` and returns once the stream has room again (backpressure): at most
    /// `MuxHandler.writeHighWatermark` bytes wait for the peer's window.
    public func write(_ data: ByteBuffer) async throws {
        try await withCheckedThrowingContinuation { (cont: CheckedContinuation<Void, any Error>) in
            eventLoop.execute {
                if let error = self.terminalError { return cont.resume(throwing: error) }
                guard let core = self.core else {
                    return cont.resume(throwing: TransportError(.connectionClosed, "stream \(self.id) is closed"))
                }
                do {
                    let blocked = try core.write(stream: self.id, data: data)
                    if blocked { self.writableWaiters.append(cont) } else { cont.resume() }
                } catch {
                    cont.resume(throwing: error)
                }
            }
        }
    }

    /// Queues every buffer without waiting (the caller handles pacing); one flush for the batch.
    public func writeWithoutWaiting(_ buffers: [ByteBuffer]) {
        eventLoop.execute {
            guard let core = self.core else { return }
            for b in buffers { _ = try? core.write(stream: self.id, data: b, flush: false) }
            core.flushNow()
        }
    }

    /// Half-closes our direction (yamux FIN); the peer's direction keeps flowing.
    public func close() {
        eventLoop.execute { self.core?.close(stream: self.id) }
    }

    /// Aborts the stream in both directions (yamux RST).
    public func reset() {
        eventLoop.execute { self.core?.reset(stream: self.id) }
    }

    // MARK: Called by MuxHandler on the event loop

    func deliver(_ data: ByteBuffer) {
        eventLoop.preconditionInEventLoop()
        if !finished { continuation.yield(data) }
    }

    func writable() {
        let waiters = writableWaiters
        writableWaiters.removeAll()
        for w in waiters { w.resume() }
    }

    /// The peer's direction ended (FIN: `error` nil) — our direction may still be writing.
    func finishInbound(_ error: (any Error)?) {
        guard !finished else { return }
        finished = true
        continuation.finish(throwing: error)
    }

    /// The stream is gone (reset, fully closed, or the connection closed): ends both directions.
    func finish(_ error: (any Error)?) {
        if terminalError == nil, let error { terminalError = error }
        finishInbound(error)
        let waiters = writableWaiters
        writableWaiters.removeAll()
        let writeError = error ?? TransportError(.connectionClosed, "stream \(id) closed")
        for w in waiters { w.resume(throwing: writeError) }
    }

    /// The inbound byte sequence. Each buffer handed to the reader is reported to yamux as
    /// consumed, which is what lets the peer send more.
    public struct Inbound: AsyncSequence, Sendable {
        public typealias Element = ByteBuffer
        let stream: AsyncThrowingStream<ByteBuffer, any Error>
        let id: StreamID
        let eventLoop: any EventLoop
        weak var core: MuxHandler?

        init(stream: AsyncThrowingStream<ByteBuffer, any Error>, id: StreamID, eventLoop: any EventLoop, core: MuxHandler) {
            self.stream = stream
            self.id = id
            self.eventLoop = eventLoop
            self.core = core
        }

        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator
            let id: StreamID
            let eventLoop: any EventLoop
            weak var core: MuxHandler?

            public mutating func next() async throws -> ByteBuffer? {
                guard let buffer = try await base.next() else { return nil }
                let n = buffer.readableBytes
                let id = self.id
                let core = self.core
                eventLoop.execute { core?.consumed(stream: id, bytes: n) }
                return buffer
            }
        }

        public func makeAsyncIterator() -> AsyncIterator {
            AsyncIterator(base: stream.makeAsyncIterator(), id: id, eventLoop: eventLoop, core: core)
        }
    }
}
