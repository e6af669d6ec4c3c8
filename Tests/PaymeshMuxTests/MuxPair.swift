import NIOCore
import PaymeshMux

/// Two yamux sessions wired back to back in memory: each side's `.send` bytes are delivered to
/// the other (optionally in small chunks). Records every event per side; can accept, consume
/// and answer FIN automatically. Reusable by any test that needs a live mux.
struct MuxPair {
    enum Side: Hashable { case dialer, listener
        var other: Side { self == .dialer ? .listener : .dialer }
    }
    typealias Action = YamuxSession.Action

    var dialer: YamuxSession
    var listener: YamuxSession
    /// Clock passed to `receive` (drives ping RTTs).
    var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
    /// Deliver bytes in chunks of at most this size (nil: as sent).
    var chunkSize: Int?
    var autoAccept = true
    var autoConsume = true
    /// Close our end when the peer's FIN arrives (an echo-less server finishing).
    var autoCloseOnRemoteFin = false

    /// Every non-send, non-data action each side produced, in order.
    private(set) var events: [Side: [Action]] = [.dialer: [], .listener: []]
    /// All stream data each side received, concatenated per stream.
    private(set) var received: [Side: [StreamID: ByteBuffer]] = [.dialer: [:], .listener: [:]]
    /// Bytes in flight towards each side.
    private var wire: [Side: [ByteBuffer]] = [.dialer: [], .listener: []]
    /// Total bytes each side has put on the wire.
    private(set) var bytesSent: [Side: Int] = [.dialer: 0, .listener: 0]

    init(dialer: MuxConfiguration = MuxConfiguration(), listener: MuxConfiguration = MuxConfiguration()) {
        self.dialer = YamuxSession(role: .dialer, configuration: dialer)
        self.listener = YamuxSession(role: .listener, configuration: listener)
    }

    /// Runs an operation on one side and routes its actions.
    @discardableResult
    mutating func on<R>(_ side: Side, _ op: (inout YamuxSession) throws -> R) rethrows -> R {
        let result: R
        switch side {
        case .dialer: result = try op(&dialer)
        case .listener: result = try op(&listener)
        }
        if let actions = result as? [Action] { process(side, actions) }
        return result
    }

    /// Delivers wire bytes back and forth until both directions are quiet.
    mutating func run(maxDeliveries: Int = 1_000_000) {
        var deliveries = 0
        while deliveries < maxDeliveries {
            guard let side = [Side.listener, .dialer].first(where: { !(wire[$0]!.isEmpty) }) else { return }
            var bytes = wire[side]!.removeFirst()
            while bytes.readableBytes > 0 {
                let n = min(bytes.readableBytes, chunkSize ?? bytes.readableBytes)
                let chunk = bytes.readSlice(length: n)!
                let now = self.now
                on(side) { $0.receive(chunk, now: now) }
                deliveries += 1
            }
        }
    }

    func events(_ side: Side) -> [Action] { events[side]! }
    func data(_ side: Side, _ id: StreamID) -> [UInt8] {
        received[side]![id].map { Array($0.readableBytesView) } ?? []
    }
    func session(_ side: Side) -> YamuxSession { side == .dialer ? dialer : listener }
    mutating func clearEvents() { events = [.dialer: [], .listener: []] }

    private mutating func process(_ side: Side, _ actions: [Action]) {
        for action in actions {
            switch action {
            case .send(let bytes):
                bytesSent[side]! += bytes.readableBytes
                wire[side.other]!.append(bytes)
            case .streamData(let id, var bytes):
                let n = bytes.readableBytes
                received[side]![id, default: ByteBuffer()].writeBuffer(&bytes)
                if autoConsume { on(side) { $0.consumed(stream: id, bytes: n) } }
            case .streamOpened(let id):
                events[side]!.append(action)
                if autoAccept { _ = try? on(side) { try $0.accept(stream: id) } }
            case .streamRemoteClosed(let id):
                events[side]!.append(action)
                if autoCloseOnRemoteFin { _ = try? on(side) { try $0.close(stream: id) } }
            default:
                events[side]!.append(action)
            }
        }
    }
}

func pattern(_ count: Int, seed: UInt8) -> ByteBuffer {
    var b = ByteBuffer()
    b.reserveCapacity(count)
    for i in 0..<count { b.writeInteger(UInt8(truncatingIfNeeded: i &* 31 &+ Int(seed))) }
    return b
}

/// Decodes every frame in a sequence of actions' `.send` bytes.
func sentFrames(_ actions: [YamuxSession.Action]) throws -> [YamuxFrame] {
    var decoder = YamuxFrameDecoder()
    var frames: [YamuxFrame] = []
    for case .send(let b) in actions {
        decoder.append(b)
        while let f = try decoder.next() { frames.append(f) }
    }
    return frames
}

func encoded(_ frames: YamuxFrame...) -> ByteBuffer {
    var b = ByteBuffer()
    for f in frames { f.encode(into: &b) }
    return b
}

func closeError(_ actions: [YamuxSession.Action]) -> MuxError?? {
    for case .closeConnection(let e) in actions { return .some(e) }
    return nil
}

let t0 = NIODeadline.uptimeNanoseconds(1_000_000_000)
