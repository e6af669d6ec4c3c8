import NIOConcurrencyHelpers
import NIOCore
import PaymeshTransport

/// One direction of a `MemoryStream`: the bytes one end wrote and the other has not read yet.
///
/// Bounded: `write` waits while more than `window` bytes are unread (back-pressure, like a yamux
/// window); `writeWithoutWaiting` past `hardLimit` unread bytes resets the stream with
/// `TransportError(.queueLimit)` instead of queueing without bound.
final class MemoryPipe: Sendable {
    /// Unread bytes above which `write` waits (the TCP transport's per-stream write watermark).
    static let window = 256 * 1024
    /// Unread bytes above which the stream is reset: a reader that stopped reading.
    static let hardLimit = 16 * 1024 * 1024

    private struct State {
        var unread = 0
        var peakUnread = 0
        var ended = false
        var error: TransportError?
        var writers: [CheckedContinuation<Void, any Error>] = []
        /// Written while held: delivered, in order, at `release` (nil: bytes flow).
        var held: [ByteBuffer]?
    }

    let chunks: AsyncThrowingStream<ByteBuffer, any Error>
    private let continuation: AsyncThrowingStream<ByteBuffer, any Error>.Continuation
    private let state = NIOLockedValueBox(State())
    /// Told how many bytes each write carried (the connections' traffic counters).
    private let onWrite: @Sendable (Int) -> Void

    init(onWrite: @escaping @Sendable (Int) -> Void) {
        self.onWrite = onWrite
        (chunks, continuation) = AsyncThrowingStream.makeStream()
    }

    /// Queues `data`; returns whether the writer must wait for room (`waitForRoom`).
    func push(_ data: ByteBuffer) throws(TransportError) -> Bool {
        let n = data.readableBytes
        let outcome: Result<Bool, TransportError> = state.withLockedValue { s in
            if s.ended { return .failure(s.error ?? TransportError(.invalidState, "the stream was closed for writing")) }
            if s.unread + n > Self.hardLimit {
                return .failure(TransportError(.queueLimit, "more than \(Self.hardLimit) bytes written and not read"))
            }
            s.unread += n
            s.peakUnread = max(s.peakUnread, s.unread)
            if s.held != nil { s.held!.append(data) } else { continuation.yield(data) }
            return .success(s.unread > Self.window)
        }
        switch outcome {
        case .success(let mustWait):
            onWrite(n)
            return mustWait
        case .failure(let error):
            if error.kind == .queueLimit { fail(error) }
            throw error
        }
    }

    /// Keeps what is written from the reader until `release` (a link whose bytes are delayed).
    func hold() { state.withLockedValue { s in if s.held == nil { s.held = [] } } }

    /// Delivers what was held, in order, and lets later writes flow.
    func release() {
        state.withLockedValue { s in
            for data in s.held ?? [] where !s.ended { continuation.yield(data) }
            s.held = nil
        }
    }

    /// True once the writer half-closed or the pipe failed.
    var isEnded: Bool { state.withLockedValue { $0.ended } }

    /// Bytes written and not read yet, and the most there ever were.
    var unread: (now: Int, peak: Int) { state.withLockedValue { ($0.unread, $0.peakUnread) } }

    /// Returns once the unread bytes are within the window (or throws when the stream ended).
    func waitForRoom() async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, any Error>) in
            let now: Result<Void, any Error>? = state.withLockedValue { s in
                if let e = s.error { return .failure(e) }
                if s.unread <= Self.window { return .success(()) }
                s.writers.append(c)
                return nil
            }
            if let now { c.resume(with: now) }
        }
    }

    /// The reader took `n` bytes: room for the writer.
    func consumed(_ n: Int) {
        let writers: [CheckedContinuation<Void, any Error>] = state.withLockedValue { s in
            s.unread -= n
            guard s.unread <= Self.window else { return [] }
            defer { s.writers.removeAll() }
            return s.writers
        }
        for w in writers { w.resume() }
    }

    /// The writer half-closed: the reader gets what is queued, then the end.
    func finish() {
        let first = state.withLockedValue { s in defer { s.ended = true }; return !s.ended }
        if first { continuation.finish() }
    }

    /// Reset or connection lost: the reader and any waiting writer get `error`.
    func fail(_ error: TransportError) {
        let writers: [CheckedContinuation<Void, any Error>]? = state.withLockedValue { s in
            guard s.error == nil else { return nil }
            s.error = error
            s.ended = true
            defer { s.writers.removeAll() }
            return s.writers
        }
        guard let writers else { return }
        continuation.finish(throwing: error)
        for w in writers { w.resume(throwing: error) }
    }
}
