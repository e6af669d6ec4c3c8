import NIOCore
public import PaymeshMux
public import PaymeshTransport

/// One end of an in-memory stream: two `MemoryPipe`s, one per direction.
public final class MemoryStream: PeerStream {
    /// Unread bytes above which `write` waits for the reader.
    public static let window = MemoryPipe.window
    /// Unread bytes above which the stream is reset with `TransportError(.queueLimit)`.
    public static let hardLimit = MemoryPipe.hardLimit

    public let protocolID: StreamProtocolID
    public let inbound: Inbound
    private let incoming: MemoryPipe
    private let outgoing: MemoryPipe

    init(protocolID: StreamProtocolID, incoming: MemoryPipe, outgoing: MemoryPipe) {
        self.protocolID = protocolID
        self.incoming = incoming
        self.outgoing = outgoing
        inbound = Inbound(pipe: incoming)
    }

    /// Bytes this end wrote that the other end has not read yet, and the most there ever were.
    public var unreadOutbound: Int { outgoing.unread.now }
    public var peakUnreadOutbound: Int { outgoing.unread.peak }

    public func write(_ data: ByteBuffer) async throws {
        if try outgoing.push(data) { try await outgoing.waitForRoom() }
    }

    public func writeWithoutWaiting(_ buffers: [ByteBuffer]) {
        for b in buffers {
            do { _ = try outgoing.push(b) } catch { return }
        }
    }

    public func close() { outgoing.finish() }

    /// What this end writes is held from the other end until `releaseOutgoing`.
    func holdOutgoing() { outgoing.hold() }
    func releaseOutgoing() { outgoing.release() }

    public func reset() { end(TransportError(.streamReset, "stream reset locally")) }

    /// Both directions ended (closed or reset): nothing more to fail at a connection close.
    var isFinished: Bool { incoming.isEnded && outgoing.isEnded }

    /// Both directions end with `error` (a reset, a lost connection).
    func end(_ error: TransportError) {
        outgoing.fail(error)
        incoming.fail(error)
    }

    /// The peer's bytes; taking a chunk gives its room back to the writer.
    public struct Inbound: AsyncSequence, Sendable {
        public typealias Element = ByteBuffer
        let pipe: MemoryPipe

        public struct AsyncIterator: AsyncIteratorProtocol {
            var base: AsyncThrowingStream<ByteBuffer, any Error>.AsyncIterator
            let pipe: MemoryPipe

            public mutating func next() async throws -> ByteBuffer? {
                guard let chunk = try await base.next() else { return nil }
                pipe.consumed(chunk.readableBytes)
                return chunk
            }
        }

        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: pipe.chunks.makeAsyncIterator(), pipe: pipe) }
    }
}
