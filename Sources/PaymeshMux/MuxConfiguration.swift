import NIOCore

/// Tunables of a yamux session. Every limit is a named constant with its source; `Specs/mux.md`
/// lists the same numbers.
public struct MuxConfiguration: Sendable, Equatable {
    /// Every stream starts with this window in each direction (yamux spec, "Flow Control").
    public static let initialStreamWindow: UInt32 = 256 * 1024
    /// Upper bound for `receiveWindow` (go-yamux's default maximum stream window, 16 MiB).
    public static let maxReceiveWindowLimit: UInt32 = 16 * 1024 * 1024
    /// Streams opened by one side and not yet acknowledged by the other (ANCHORS, Transport:
    /// "Keep the unacknowledged-stream backlog ≤ 256"; also go-yamux's accept backlog).
    public static let defaultMaxUnacknowledgedStreams = 256
    /// Live streams per session (go-yamux's default `MaxIncomingStreams` is 1000; we round up).
    public static let defaultMaxConcurrentStreams = 1024
    /// Largest Data frame payload accepted (= the largest window we can ever advertise).
    public static let defaultMaxDataFrameLength: UInt32 = 16 * 1024 * 1024
    /// Largest Data frame payload we send: one frame then fits a 64 KiB Noise message budget
    /// roughly, and a stream never hogs the connection for long.
    public static let defaultMaxOutboundDataFrame = 64 * 1024
    /// hashicorp/yamux defaults: KeepAliveInterval 30 s, ConnectionWriteTimeout 10 s.
    public static let defaultKeepaliveInterval = TimeAmount.seconds(30)
    public static let defaultPingTimeout = TimeAmount.seconds(10)
    /// Bytes accepted by `write` and still waiting for the peer's window, over all streams of a
    /// session (issue 7 item 5). A peer that keeps us producing data without granting window
    /// cannot grow this queue: past the limit the session sends GoAway(internal error) and closes.
    /// 64 streams of 256 KiB (the writers' per-stream high watermark) — far above what a peer that
    /// reads ever leaves queued.
    public static let defaultMaxQueuedBytes = 64 * 256 * 1024

    /// Receive window we grant each stream; ≥ 256 KiB, ≤ 16 MiB. Values above 256 KiB are
    /// announced by a WindowUpdate sent with the SYN / ACK.
    public var receiveWindow: UInt32
    public var maxConcurrentStreams: Int
    /// Inbound streams not yet accepted by the application (excess → RST), and outbound streams
    /// not yet ACKed by the peer (excess → `openStream` throws).
    public var maxUnacknowledgedStreams: Int
    public var maxDataFrameLength: UInt32
    public var maxOutboundDataFrame: Int
    /// nil disables keepalive pings.
    public var keepaliveInterval: TimeAmount?
    /// A ping (keepalive or explicit) unanswered for this long closes the session.
    public var pingTimeout: TimeAmount
    /// Outbound bytes queued behind the peer's windows, all streams together; exceeding it closes
    /// the session with GoAway(2) and `MuxError.sendQueueFull`.
    public var maxQueuedBytes: Int

    public init(
        receiveWindow: UInt32 = MuxConfiguration.initialStreamWindow,
        maxConcurrentStreams: Int = MuxConfiguration.defaultMaxConcurrentStreams,
        maxUnacknowledgedStreams: Int = MuxConfiguration.defaultMaxUnacknowledgedStreams,
        maxDataFrameLength: UInt32 = MuxConfiguration.defaultMaxDataFrameLength,
        maxOutboundDataFrame: Int = MuxConfiguration.defaultMaxOutboundDataFrame,
        keepaliveInterval: TimeAmount? = MuxConfiguration.defaultKeepaliveInterval,
        pingTimeout: TimeAmount = MuxConfiguration.defaultPingTimeout,
        maxQueuedBytes: Int = MuxConfiguration.defaultMaxQueuedBytes
    ) {
        precondition(receiveWindow >= Self.initialStreamWindow && receiveWindow <= Self.maxReceiveWindowLimit,
                     "receiveWindow must be within 256 KiB ... 16 MiB")
        precondition(maxConcurrentStreams > 0 && maxUnacknowledgedStreams > 0 && maxOutboundDataFrame > 0 && maxQueuedBytes > 0)
        precondition(maxDataFrameLength >= receiveWindow, "a full window must fit in one frame")
        self.receiveWindow = receiveWindow
        self.maxConcurrentStreams = maxConcurrentStreams
        self.maxUnacknowledgedStreams = maxUnacknowledgedStreams
        self.maxDataFrameLength = maxDataFrameLength
        self.maxOutboundDataFrame = maxOutboundDataFrame
        self.keepaliveInterval = keepaliveInterval
        self.pingTimeout = pingTimeout
        self.maxQueuedBytes = maxQueuedBytes
    }
}
