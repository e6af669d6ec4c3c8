// Symlinked into Tests/PaymeshMuxTests/FuzzHarness/.
import NIOCore
import PaymeshMux

/// FuzzYamuxSession: a listener `YamuxSession` fed inbound bytes from the input, interleaved
/// with API calls that the input chooses, on a fake monotonic clock.
///
/// Input: the `FuzzInput` header (mode bits pick the configuration, see `configuration(_:)`),
/// then the payload `[L][L op bytes][inbound bytes…]`. The inbound bytes are cut into the
/// input's chunks; each "receive" op delivers the next chunk, and whatever is left after the
/// ops is delivered at the end, followed by one timer tick. Op byte: low nibble = kind, high
/// nibble = argument; ops on a stream read one more op byte to pick it (see `Op`).
///
/// Invariants, checked after every call: actions are shaped as documented (stream events,
/// then at most one `.send`, then at most one `.closeConnection`); once `.closeConnection`
/// was returned every call returns nothing and throwing calls throw `sessionClosed`; the
/// session's stream table matches the events it reported; `streamCount ≤
/// maxConcurrentStreams`; unconsumed data never exceeds the receive window we grant; every
/// byte we send parses as valid yamux frames, SYNs only on our ids in increasing order, ACKs
/// only on the peer's, and Data never beyond the send window the peer granted; ping
/// responses answer pings we sent; errors from API calls are the documented ones.
public enum YamuxSessionHarness {
    public struct Outcome: Equatable {
        public var closed: Bool
        public var closeReason: MuxError?
        public var streamsOpened: Int
        public var bytesSent: Int
    }

    /// Mode bits: 1 = tight stream limits (4 concurrent, 2 unacknowledged); 2 = 1 MiB receive
    /// window; 4 = keepalive off; 8 = small frames (1000-byte outbound Data, inbound Data
    /// limited to the receive window).
    public static func configuration(_ mode: UInt8) -> MuxConfiguration {
        let window: UInt32 = mode & 2 == 0 ? MuxConfiguration.initialStreamWindow : 1 << 20
        return MuxConfiguration(
            receiveWindow: window,
            maxConcurrentStreams: mode & 1 == 0 ? MuxConfiguration.defaultMaxConcurrentStreams : 4,
            maxUnacknowledgedStreams: mode & 1 == 0 ? MuxConfiguration.defaultMaxUnacknowledgedStreams : 2,
            maxDataFrameLength: mode & 8 == 0 ? MuxConfiguration.defaultMaxDataFrameLength : window,
            maxOutboundDataFrame: mode & 8 == 0 ? MuxConfiguration.defaultMaxOutboundDataFrame : 1_000,
            keepaliveInterval: mode & 4 == 0 ? MuxConfiguration.defaultKeepaliveInterval : nil)
    }

    public static func run(_ data: [UInt8]) throws(FuzzViolation) -> Outcome {
        let input = FuzzInput(data)
        let payload = input.payload
        let opCount = min(Int(payload.first ?? 0), max(0, payload.count - 1))
        let ops = Array(payload.dropFirst().prefix(opCount))
        let wire = Array(payload.dropFirst(1 + opCount))
        var driver = Driver(configuration: configuration(input.mode), chunks: input.chunks(of: wire))

        var i = 0
        func next() -> UInt8 {
            defer { i += 1 }
            return i < ops.count ? ops[i] : 0
        }
        while i < ops.count {
            let op = next()
            try driver.perform(Op(rawValue: op & 0x0f)!, arg: Int(op >> 4), pick: next)
        }
        while driver.hasChunks { try driver.perform(.receive, arg: 0, pick: next) }
        try driver.perform(.tick, arg: 1, pick: next)
        return driver.outcome
    }

    enum Op: UInt8 {
        case receive = 0, receive1, receive2, accept, write, consumed, close, reset, ping, tick
        case openStream, goAway, flush, consumeAll, advanceClock, openAndWrite
    }

    /// Byte counts for `write` and `consumed`, by argument.
    static let sizes = [0, 1, 2, 11, 12, 100, 1_000, 4_096, 65_535, 65_536, 65_537, 131_072, 262_143, 262_144, 262_145, 300_000]
    /// Clock steps in milliseconds, by argument (keepalive is 30 s, ping timeout 10 s).
    static let steps: [Int64] = [0, 1, 10, 100, 1_000, 5_000, 9_999, 10_000, 10_001, 20_000, 29_999, 30_000, 30_001, 40_000, 60_000, 3_600_000]

    /// Session, clock and the harness's model of what the session reported.
    struct Driver {
        var session: YamuxSession
        let configuration: MuxConfiguration
        var chunks: [ArraySlice<UInt8>]
        var nextChunk = 0
        var now = NIODeadline.uptimeNanoseconds(1_000_000_000)
        /// Bytes all writes of one run may queue: enough to fill several windows, small enough
        /// to keep a run in the millisecond range.
        var writeBudget = 1 << 20

        /// Every stream id the session told us about or gave us, in order (for picking).
        var known: [StreamID] = []
        /// Live streams and the data delivered on them but not yet reported consumed.
        var live: [StreamID: Int] = [:]
        var remoteClosed: Set<StreamID> = []
        var lastInboundOpened: UInt32 = 0
        var sawClose = false
        var closeReason: MuxError?
        var streamsOpened = 0

        /// What our sent bytes must respect: the peer's Window credits (from a mirror decoder
        /// of the inbound bytes) and our own pings.
        var mirror = YamuxFrameDecoder(maxDataLength: .max)
        var credit: [StreamID: Int] = [:]
        var peerPings = 0
        var sentData: [StreamID: Int] = [:]
        var sent = 0
        var sentPingAcks = 0
        var outstandingPings: [UInt32] = []
        var lastSyn: UInt32 = 0
        var sentOpening: Set<StreamID> = []
        var sentFin: Set<StreamID> = []
        var sentRst: Set<StreamID> = []
        var sentGoAway: UInt32?
        /// Set when a call sent a GoAway other than normal: that call must close.
        var closingGoAway = false

        init(configuration: MuxConfiguration, chunks: [ArraySlice<UInt8>]) {
            self.configuration = configuration
            self.session = YamuxSession(role: .listener, configuration: configuration)
            self.chunks = chunks
        }

        var hasChunks: Bool { nextChunk < chunks.count }

        var outcome: Outcome {
            Outcome(closed: sawClose, closeReason: closeReason, streamsOpened: streamsOpened, bytesSent: sent)
        }

        mutating func pickStream(_ b: UInt8) -> StreamID {
            if b >= 0xf0 || known.isEmpty { return StreamID(UInt32(b & 0x0f)) }  // often unknown
            return known[Int(b) % known.count]
        }

        mutating func perform(_ op: Op, arg: Int, pick: () -> UInt8) throws(FuzzViolation) {
            switch op {
            case .receive, .receive1, .receive2:
                guard hasChunks else { return }
                let chunk = chunks[nextChunk]
                nextChunk += 1
                mirrorReceive(chunk)
                let actions = session.receive(ByteBuffer(bytes: chunk), now: now)
                try observe(actions, "receive")
            case .accept:
                let id = pickStream(pick())
                try observeThrowing("accept \(id)", id, nil, { (s: inout YamuxSession) throws(MuxError) in try s.accept(stream: id) })
            case .write, .openAndWrite:
                let picked = op == .openAndWrite ? try openStream() : pickStream(pick())
                guard let id = picked else { return }
                let size = min(YamuxSessionHarness.sizes[arg], writeBudget)
                writeBudget -= size
                let data = ByteBuffer(repeating: UInt8(truncatingIfNeeded: arg), count: size)
                try observeThrowing("write \(data.readableBytes) B on \(id)", id, .streamNotWritable(id), { (s: inout YamuxSession) throws(MuxError) in
                    try s.write(stream: id, data: data)
                })
            case .consumed:
                let id = pickStream(pick())
                try consume(id, YamuxSessionHarness.sizes[arg] - (arg == 0 ? 1 : 0))  // arg 0: -1
            case .consumeAll:
                for id in live.keys.sorted() where live[id]! > 0 { try consume(id, live[id]!) }
            case .close:
                let id = pickStream(pick())
                try observeThrowing("close \(id)", id, nil, { (s: inout YamuxSession) throws(MuxError) in try s.close(stream: id) })
            case .reset:
                let id = pickStream(pick())
                let wasLive = live[id] != nil
                let actions = session.reset(stream: id)
                try observe(actions, "reset \(id)")
                if wasLive && !sawClose {
                    try fuzzRequire(actions.contains(.streamClosed(id)), "reset \(id) did not report .streamClosed")
                }
            case .ping:
                let value = UInt32(arg) << 24 | UInt32(pick())
                try observe(session.ping(value: value, now: now), "ping")
            case .tick:
                now = now + .milliseconds(YamuxSessionHarness.steps[arg])
                try observe(session.onTimerTick(now: now), "tick")
                if let deadline = session.nextDeadline {
                    try fuzzRequire(deadline > now, "after a tick the next deadline \(deadline) is not after now \(now)")
                }
            case .advanceClock:
                now = now + .milliseconds(YamuxSessionHarness.steps[arg])
            case .openStream:
                guard let id = try openStream() else { return }
                if arg & 1 == 1 { try observe(session.flush(), "flush after open \(id)") }
            case .goAway:
                let code = GoAwayCode(rawValue: UInt32(arg % 4))
                try observe(session.goAway(code: code), "goAway \(code)")
                if code != .normal {
                    try fuzzRequire(session.isClosed, "goAway(\(code)) left the session open")
                }
            case .flush:
                try observe(session.flush(), "flush")
            }
        }

        mutating func openStream() throws(FuzzViolation) -> StreamID? {
            switch Result(catching: { () throws(MuxError) in try session.openStream() }) {
            case .success(let id):
                try fuzzRequire(!sawClose, "openStream succeeded on a closed session")
                try fuzzRequire(id.rawValue & 1 == 0 && id.rawValue != 0, "listener opened \(id)")
                try fuzzRequire(live[id] == nil && !known.contains(id), "openStream reused \(id)")
                live[id] = 0
                known.append(id)
                try checkTable("openStream")
                return id
            case .failure(let error):
                let allowed: [MuxError] = [.sessionClosed(), .goAwayReceived(), .goAwaySent(), .tooManyStreams(),
                                           .tooManyUnacknowledgedStreams(), .streamIDsExhausted()]
                try fuzzRequire(allowed.contains(error), "openStream threw \(error)")
                if sawClose { try fuzzRequire(error == .sessionClosed(), "openStream after close threw \(error)") }
                return nil
            }
        }

        mutating func consume(_ id: StreamID, _ bytes: Int) throws(FuzzViolation) {
            let actions = session.consumed(stream: id, bytes: bytes)
            if bytes > 0, let pending = live[id] { live[id] = pending - min(bytes, pending) }
            try observe(actions, "consumed \(bytes) on \(id)")
        }

        /// accept / write / close: `sessionClosed` once closed, `unknownStream` for a stream that
        /// is not live, and for a live one only `liveError` (write: `streamNotWritable`).
        mutating func observeThrowing(
            _ call: String, _ id: StreamID, _ liveError: MuxError?, _ body: (inout YamuxSession) throws(MuxError) -> [YamuxSession.Action]
        ) throws(FuzzViolation) {
            switch Result(catching: { () throws(MuxError) in try body(&session) }) {
            case .success(let actions):
                try fuzzRequire(!sawClose, "\(call) succeeded on a closed session")
                try fuzzRequire(live[id] != nil, "\(call) succeeded on a stream that is not live")
                try observe(actions, call)
            case .failure(let error):
                if sawClose {
                    try fuzzRequire(error == .sessionClosed(), "\(call) after close threw \(error)")
                } else if live[id] == nil {
                    try fuzzRequire(error == .unknownStream(id), "\(call) on a dead stream threw \(error)")
                } else {
                    try fuzzRequire(error == liveError, "\(call) threw \(error)")
                }
            }
        }

        // MARK: Checking actions

        mutating func observe(_ actions: [YamuxSession.Action], _ call: String) throws(FuzzViolation) {
            if sawClose {
                try fuzzRequire(actions.isEmpty, "\(call) after .closeConnection returned \(actions.count) actions")
                return
            }
            var sends = 0
            for (index, action) in actions.enumerated() {
                let isLast = index == actions.count - 1
                switch action {
                case .send(let bytes):
                    sends += 1
                    try fuzzRequire(sends == 1, "\(call): more than one .send")
                    let closesNext = !isLast && { if case .closeConnection = actions[index + 1] { return true } else { return false } }()
                    try fuzzRequire(isLast || (closesNext && index == actions.count - 2), "\(call): .send is not last")
                    try checkSent(bytes, call)
                case .closeConnection(let reason):
                    try fuzzRequire(isLast, "\(call): .closeConnection is not the last action")
                    sawClose = true
                    closeReason = reason
                case .streamOpened(let id):
                    try fuzzRequire(sends == 0, "\(call): stream event after .send")
                    try fuzzRequire(id.rawValue & 1 == 1, "\(call): peer stream \(id) has our parity")
                    try fuzzRequire(id.rawValue > lastInboundOpened, "\(call): \(id) opened after \(lastInboundOpened)")
                    try fuzzRequire(live[id] == nil, "\(call): \(id) opened twice")
                    lastInboundOpened = id.rawValue
                    live[id] = 0
                    known.append(id)
                    streamsOpened += 1
                case .streamData(let id, let data):
                    try fuzzRequire(sends == 0, "\(call): stream event after .send")
                    try fuzzRequire(data.readableBytes > 0, "\(call): empty .streamData on \(id)")
                    guard let pending = live[id] else { throw FuzzViolation("\(call): data on dead \(id)") }
                    try fuzzRequire(!remoteClosed.contains(id), "\(call): data on \(id) after its FIN")
                    live[id] = pending + data.readableBytes
                    try fuzzRequire(live[id]! <= Int(configuration.receiveWindow),
                                    "\(call): \(live[id]!) unconsumed bytes on \(id) > window \(configuration.receiveWindow)")
                case .streamRemoteClosed(let id):
                    try fuzzRequire(sends == 0, "\(call): stream event after .send")
                    try fuzzRequire(live[id] != nil, "\(call): FIN on dead \(id)")
                    try fuzzRequire(remoteClosed.insert(id).inserted, "\(call): second FIN event on \(id)")
                case .streamReset(let id):
                    try fuzzRequire(sends == 0, "\(call): stream event after .send")
                    try fuzzRequire(live[id] != nil, "\(call): reset of dead \(id)")
                    try fuzzRequire(actions.dropFirst(index + 1).contains(.streamClosed(id)), "\(call): reset without close of \(id)")
                case .streamClosed(let id):
                    try fuzzRequire(sends == 0, "\(call): stream event after .send")
                    try fuzzRequire(live.removeValue(forKey: id) != nil, "\(call): close of dead \(id)")
                    remoteClosed.remove(id)
                case .streamWritable(let id):
                    try fuzzRequire(sends == 0, "\(call): stream event after .send")
                    try fuzzRequire(live[id] != nil || actions.contains(.streamClosed(id)), "\(call): writable dead \(id)")
                case .pingResponse(let value, let rtt):
                    try fuzzRequire(sends == 0, "\(call): event after .send")
                    try fuzzRequire(rtt >= .zero, "\(call): negative rtt")
                    guard let i = outstandingPings.firstIndex(of: value) else {
                        throw FuzzViolation("\(call): response to ping \(value) we did not send")
                    }
                    outstandingPings.remove(at: i)
                case .goAwayReceived:
                    try fuzzRequire(sends == 0, "\(call): event after .send")
                }
            }
            if closingGoAway {
                try fuzzRequire(sawClose, "\(call): GoAway \(sentGoAway ?? 0) sent without closing")
            }
            if sawClose {
                try fuzzRequire(session.isClosed && session.streamCount == 0, "\(call): closed session keeps \(session.streamCount) streams")
                try fuzzRequire(session.nextDeadline == nil, "\(call): closed session has a deadline")
                live.removeAll()
                remoteClosed.removeAll()
            } else {
                try fuzzRequire(!session.isClosed, "\(call): session closed without .closeConnection")
                try checkTable(call)
            }
        }

        /// The session's table matches the events, within the limits.
        func checkTable(_ call: String) throws(FuzzViolation) {
            try fuzzRequire(session.streamCount <= configuration.maxConcurrentStreams,
                            "\(call): \(session.streamCount) streams > \(configuration.maxConcurrentStreams)")
            try fuzzRequire(session.streamCount == live.count, "\(call): session has \(session.streamCount) streams, events say \(live.count)")
            for id in live.keys {
                try fuzzRequire(session.state(of: id) != nil, "\(call): live \(id) unknown to the session")
                if let window = session.receiveWindow(of: id) {
                    try fuzzRequire(window <= configuration.receiveWindow, "\(call): receive window \(window) of \(id)")
                }
            }
        }

        /// Feeds the inbound bytes to a second decoder to learn the peer's window credits.
        mutating func mirrorReceive(_ chunk: ArraySlice<UInt8>) {
            mirror.append(ByteBuffer(bytes: chunk))
            // After an error the mirror stays stuck, like the session, which closes on it.
            while let frame = try? mirror.next() {
                switch frame.type {
                case .windowUpdate: credit[frame.streamID, default: 0] += Int(frame.length)
                case .ping where frame.flags == .syn: peerPings += 1
                default: break
                }
            }
        }

        /// Our bytes: whole, valid frames that keep the protocol's rules.
        mutating func checkSent(_ bytes: ByteBuffer, _ call: String) throws(FuzzViolation) {
            try fuzzRequire(bytes.readableBytes > 0, "\(call): empty .send")
            sent += bytes.readableBytes
            var decoder = YamuxFrameDecoder(maxDataLength: UInt32(configuration.maxOutboundDataFrame))
            decoder.append(bytes)
            while true {
                let frame: YamuxFrame
                switch Result(catching: { () throws(MuxError) in try decoder.next() }) {
                case .success(let f?): frame = f
                case .success(nil):
                    try fuzzRequire(decoder.bufferedBytes == 0, "\(call): \(decoder.bufferedBytes) bytes of a partial frame sent")
                    return
                case .failure(let error):
                    throw FuzzViolation("\(call): we sent an invalid frame: \(error)")
                }
                let id = frame.streamID
                let ours = id.rawValue & 1 == 0
                switch frame.type {
                case .data, .windowUpdate:
                    // Per stream: opened first (SYN on ours, ACK on the peer's, unless rejecting
                    // it with RST), at most one FIN and no data after it, nothing after RST.
                    try fuzzRequire(!sentRst.contains(id), "\(call): \(frame.type) on \(id) after our RST")
                    if frame.flags.contains(.rst) {
                        sentRst.insert(id)
                    } else if !frame.flags.contains(ours ? .syn : .ack) {
                        try fuzzRequire(sentOpening.contains(id), "\(call): \(frame.type) on \(id) before its \(ours ? "SYN" : "ACK")")
                    }
                    if frame.flags.contains(.syn) || frame.flags.contains(.ack) {
                        try fuzzRequire(sentOpening.insert(id).inserted, "\(call): second SYN/ACK on \(id)")
                    }
                    if sentFin.contains(id) {
                        try fuzzRequire(frame.type == .windowUpdate || (frame.length == 0 && !frame.flags.contains(.fin)),
                                        "\(call): \(frame.type) of \(frame.length) B (flags \(frame.flags.rawValue)) on \(id) after our FIN")
                    }
                    if frame.flags.contains(.fin) { sentFin.insert(id) }
                    if frame.flags.contains(.syn) {
                        try fuzzRequire(ours, "\(call): SYN on the peer's \(id)")
                        try fuzzRequire(id.rawValue > lastSyn, "\(call): SYN for \(id) after \(lastSyn)")
                        lastSyn = id.rawValue
                    }
                    if frame.flags.contains(.ack) {
                        try fuzzRequire(!ours, "\(call): ACK on our own \(id)")
                    }
                    if frame.type == .data {
                        sentData[id, default: 0] += Int(frame.length)
                        let allowed = Int(MuxConfiguration.initialStreamWindow) + credit[id, default: 0]
                        try fuzzRequire(sentData[id]! <= allowed, "\(call): sent \(sentData[id]!) bytes on \(id), window \(allowed)")
                    }
                case .ping:
                    if frame.flags == .syn {
                        outstandingPings.append(frame.length)
                    } else {
                        sentPingAcks += 1
                        try fuzzRequire(sentPingAcks <= peerPings, "\(call): \(sentPingAcks) ping answers for \(peerPings) pings")
                    }
                case .goAway:
                    // Once, except that a protocol error after a normal GoAway is still
                    // reported (mux.md §7); any code but 0 ends the session in the same call.
                    if let first = sentGoAway {
                        try fuzzRequire(first == 0 && frame.length == 1, "\(call): GoAway \(frame.length) after GoAway \(first)")
                    }
                    sentGoAway = frame.length
                    if frame.length != 0 { closingGoAway = true }
                }
            }
        }
    }
}
