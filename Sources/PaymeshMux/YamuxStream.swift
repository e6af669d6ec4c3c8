import NIOCore

/// The externally visible state of a live stream (yamux spec, "Message Flow"). A stream that is
/// fully closed or reset is removed from the session and has no state.
public enum StreamState: Hashable, Sendable {
    /// We opened it; the peer has not ACKed yet (the SYN may still be waiting to go out).
    case synSent
    /// The peer opened it; the application has not accepted it yet (no ACK sent).
    case synReceived
    case established
    /// We sent FIN; the peer may still send.
    case localClose
    /// The peer sent FIN; we may still send.
    case remoteClose
}

/// Per-stream bookkeeping inside `YamuxSession`.
struct YamuxStream: Sendable {
    enum Opening: Sendable {
        /// Outbound stream whose SYN has not been written yet.
        case synPending
        case synSent
        case synReceived
        /// Inbound stream accepted by the application; the ACK goes out with the next frame.
        case ackPending
        case established
    }

    enum LocalEnd: Sendable { case open, finPending, finSent }

    var opening: Opening
    var localEnd: LocalEnd = .open
    var remoteFin = false

    /// Bytes we may still send before the peer's next WindowUpdate.
    var sendWindow: UInt32 = MuxConfiguration.initialStreamWindow
    /// Data waiting for send window, oldest first.
    var sendQueue: CircularBuffer<ByteBuffer> = CircularBuffer(initialCapacity: 0)
    var queuedBytes = 0
    /// A write had to queue; `.streamWritable` is due when the queue empties.
    var writerBlocked = false

    /// Bytes the peer may still send before it needs our WindowUpdate.
    var receiveWindow: UInt32 = MuxConfiguration.initialStreamWindow
    /// Delivered to the application but not yet reported `consumed`.
    var unconsumed = 0
    /// Consumed bytes not yet returned to the peer by a WindowUpdate.
    var pendingCredit: UInt32 = 0

    init(opening: Opening) { self.opening = opening }

    var publicState: StreamState {
        switch opening {
        case .synPending, .synSent: return .synSent
        case .synReceived: return .synReceived
        case .ackPending, .established:
            if localEnd == .finSent { return .localClose }
            if remoteFin { return .remoteClose }
            return .established
        }
    }

    var isFullyClosed: Bool { localEnd == .finSent && remoteFin }
}

extension YamuxStream {
    /// Stand-in swapped into the table while a stream is being mutated outside it.
    static let placeholder = YamuxStream(opening: .established)
}
