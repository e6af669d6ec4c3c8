import Foundation
public import NIOCore
public import PaymeshCrypto
public import PaymeshMessages
public import PaymeshMux
public import PaymeshNoise
import PaymeshMsgpack

/// One attacker connection to a real node, written from Specs/ (transport.md, mux.md,
/// streams.md, messages.md): TCP, the Noise XX handshake with an identity proof, yamux frames
/// and length-prefixed messages, each step under the caller's control. Blocking (poll-based,
/// every call bounded by a timeout); use it from one thread at a time (see `offload`).
///
/// Nothing is read unless the caller asks (`pump`, `nextMessage`): a caller that never pumps
/// is a peer that never reads. While pumping, pings are answered and window is returned unless
/// `answerPings` / `grantWindow` say otherwise.
public final class HostileConnection: @unchecked Sendable {
    /// What the node sent us, counted.
    public struct Counters: Sendable {
        public var bytesReceived = 0
        public var framesReceived = 0
        public var pingsAnswered = 0
        public var pingResponses = 0
        public var messagesReceived = 0
        public var undecodableMessages = 0
        /// ERROR messages by code.
        public var errors: [UInt16: Int] = [:]
        public var acksAccepted = 0
        /// PAYMENT_ACK rejected, by error code (0 when it carried none).
        public var acksRejected: [UInt16: Int] = [:]
        /// The code of a GoAway the node sent, if any.
        public var goAway: UInt32?
        public var streamsReset = 0
    }

    /// mux.md §5: every stream starts with 256 KiB of window in each direction.
    public static let initialStreamWindow = 262_144
    /// mux.md §5: Paymesh Data frames carry at most 64 KiB.
    public static let maxDataPayload = 65_536
    /// mux.md §5: return window once half of it has been consumed.
    static let windowUpdateThreshold = initialStreamWindow / 2

    public let socket: HostileSocket
    public let identity: HostileIdentity
    /// The node, as its identity proof named it (after `handshake`).
    public private(set) var peer: AuthenticatedPeer?
    public private(set) var counters = Counters()
    /// True once the node closed the connection (EOF or reset seen).
    public private(set) var closedByNode = false
    /// Decoded messages not yet taken by `nextMessage`, in arrival order (when `keepMessages`).
    public private(set) var inbox: [(stream: UInt32, message: Message)] = []
    public var keepMessages = true
    /// Answer the node's Ping SYNs while pumping (keepalive); false lets its pings time out.
    public var answerPings = true
    /// Return stream window for the Data we consume; false never grants the node any window.
    public var grantWindow = true

    private var transport: TransportCipher?
    private var noise = NoiseFrameDecoder()
    private var mux = YamuxFrameDecoder()
    private var streams: [UInt32: StreamState] = [:]
    private var nextStreamID: UInt32 = 1 // mux.md §2: the dialer uses odd ids
    private var control: [YamuxFrame] = []
    private let encoder = MsgpackEncoderBox()

    struct StreamState {
        var codec = PaymentStreamCodec()
        /// Bytes of the opener's protocol header still to skip on an inbound stream; nil until
        /// its length byte has arrived.
        var headerRemaining: Int?
        var sendWindow = HostileConnection.initialStreamWindow
        var consumed = 0
        /// The protocol id the stream's opener named (streams.md §2), once read.
        var protocolID: [UInt8] = []
        /// True for a stream of another protocol than payments: its bytes are kept as they come
        /// (`rawFrame`) instead of being decoded as messages.md frames. Nil until the header is read.
        var raw: Bool?
        var rawBytes: [UInt8] = []
    }

    /// A stream's bytes kept raw are capped here (a test reads them as they come).
    static let maxRawBytes = 16 << 20

    init(socket: HostileSocket, identity: HostileIdentity) {
        self.socket = socket
        self.identity = identity
    }

    // MARK: Connecting

    /// TCP only: nothing sent yet (for stalls and handshake abuse).
    public static func raw(host: String = "127.0.0.1", port: Int, identity: HostileIdentity? = nil, timeout: Double = 10,
                           receiveBuffer: Int? = nil) throws(HostileError) -> HostileConnection {
        let id: HostileIdentity
        if let identity { id = identity } else { id = try HostileIdentity.throwaway() }
        return HostileConnection(socket: try HostileSocket.connect(host: host, port: port, timeout: timeout, receiveBuffer: receiveBuffer),
                                 identity: id)
    }

    /// TCP and a complete handshake.
    public static func connect(host: String = "127.0.0.1", port: Int, identity: HostileIdentity? = nil, timeout: Double = 10,
                               receiveBuffer: Int? = nil) throws(HostileError) -> HostileConnection {
        let c = try raw(host: host, port: port, identity: identity, timeout: timeout, receiveBuffer: receiveBuffer)
        do throws(HostileError) { try c.handshake(timeout: timeout) } catch {
            c.close()
            throw error
        }
        return c
    }

    /// Runs the initiator side of transport.md §3 (messages 1, 2, 3).
    public func handshake(timeout: Double = 10, expecting: EthereumAddress? = nil) throws(HostileError) {
        var hs: PaymeshHandshake
        let m1: [UInt8]
        do {
            hs = try PaymeshHandshake(role: .initiator, local: identity.local, expectedPeer: expecting)
            guard let first = try hs.start() else { throw HostileError(.handshake, "no message 1") }
            m1 = first
        } catch { throw HostileError(.handshake, "message 1: \(error)") }
        try sendHandshakeMessage(m1, timeout: timeout)
        noise.maximumMessageLength = hs.maximumIncomingMessageLength
        let m2 = try readNoiseMessage(timeout: timeout)
        let out: PaymeshHandshake.Output
        do { out = try hs.receive(m2) } catch { throw HostileError(.handshake, "message 2: \(error)") }
        guard let m3 = out.reply, let session = out.established else { throw HostileError(.handshake, "handshake did not complete") }
        try sendHandshakeMessage(m3, timeout: timeout)
        transport = session.transport
        peer = session.peer
        noise.maximumMessageLength = NoiseLimits.maxMessageLength
    }

    /// Sends one handshake message framed (2-byte length) as it is.
    public func sendHandshakeMessage(_ message: [UInt8], timeout: Double = 10) throws(HostileError) {
        try socket.sendAll([UInt8(message.count >> 8), UInt8(message.count & 0xFF)] + message, timeout: timeout)
    }

    private func readNoiseMessage(timeout: Double) throws(HostileError) -> [UInt8] {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let m = try nextNoiseMessage() { return m }
            let left = deadline.timeIntervalSinceNow
            guard left > 0, let bytes = try socket.receive(timeout: left) else {
                throw HostileError(.timeout, "no handshake message within \(timeout) s")
            }
            if bytes.isEmpty {
                closedByNode = true
                throw HostileError(.closed, "node closed the connection during the handshake")
            }
            counters.bytesReceived += bytes.count
            noise.append(contentsOf: bytes)
        }
    }

    private func nextNoiseMessage() throws(HostileError) -> [UInt8]? {
        do { return try noise.nextMessage().map { Array($0.readableBytesView) } } catch {
            throw HostileError(.protocolViolation, "noise framing: \(error)")
        }
    }

    public func close(reset: Bool = false) { socket.close(reset: reset) }

    // MARK: Sending

    /// Encrypts `plaintext` into transport messages (≤ 65519 bytes each, transport.md §5) and
    /// returns the framed wire bytes.
    public func seal(_ plaintext: [UInt8]) throws(HostileError) -> [UInt8] {
        guard transport != nil else { throw HostileError(.handshake, "no transport keys: handshake first") }
        var wire: [UInt8] = []
        wire.reserveCapacity(plaintext.count + (plaintext.count / NoiseLimits.maxPlaintextLength + 1) * 18)
        var offset = 0
        repeat {
            let end = min(plaintext.count, offset + NoiseLimits.maxPlaintextLength)
            let sealed: [UInt8]
            do { sealed = try transport!.encrypt(Array(plaintext[offset..<end])) } catch {
                throw HostileError(.encoding, "encrypt: \(error)")
            }
            wire.append(UInt8(sealed.count >> 8))
            wire.append(UInt8(sealed.count & 0xFF))
            wire.append(contentsOf: sealed)
            offset = end
        } while offset < plaintext.count
        return wire
    }

    /// Sends raw yamux bytes (well-formed or not) as transport plaintext.
    public func sendPlaintext(_ plaintext: [UInt8], timeout: Double = 10) throws(HostileError) {
        try socket.sendAll(try seal(plaintext), timeout: timeout)
    }

    public static func encode(_ frames: [YamuxFrame]) -> [UInt8] {
        var buffer = ByteBuffer()
        for f in frames { f.encode(into: &buffer) }
        return Array(buffer.readableBytesView)
    }

    public func send(frames: [YamuxFrame], timeout: Double = 10) throws(HostileError) {
        try sendPlaintext(Self.encode(frames), timeout: timeout)
    }

    /// The payments stream protocol id (streams.md §2), spelled here from the spec, not imported.
    public static let paymentsProtocol: StreamProtocolID = {
        guard let id = try? StreamProtocolID("/paymesh/payments/1") else { preconditionFailure("a valid protocol id") }
        return id
    }()

    /// Opens a stream naming `protocolID` (streams.md): a Data frame with SYN carrying the header.
    @discardableResult
    public func openStream(_ protocolID: StreamProtocolID = HostileConnection.paymentsProtocol, timeout: Double = 10) throws(HostileError) -> UInt32 {
        var header = ByteBuffer()
        StreamProtocolHeader.encode(protocolID, into: &header)
        return try openStream(header: Array(header.readableBytesView), timeout: timeout)
    }

    /// Opens a stream whose first bytes are `header` as given (valid or not).
    @discardableResult
    public func openStream(header: [UInt8], timeout: Double = 10) throws(HostileError) -> UInt32 {
        let id = nextStreamID
        nextStreamID += 2
        streams[id] = StreamState(headerRemaining: 0)
        if header.count > 1 {
            streams[id]!.protocolID = Array(header.dropFirst())
            streams[id]!.raw = !Self.isPayments(streams[id]!.protocolID)
        }
        streams[id]!.sendWindow -= header.count
        try send(frames: [.data(StreamID(id), flags: .syn, payload: ByteBuffer(bytes: header))], timeout: timeout)
        return id
    }

    /// The stream window the node has granted us and we have not used.
    public func sendWindow(_ stream: UInt32) -> Int { streams[stream]?.sendWindow ?? 0 }

    /// Length-prefixed frames (messages.md §2) of `messages`.
    public func encode(_ messages: [Message]) throws(HostileError) -> [UInt8] {
        var payload = ByteBuffer()
        for m in messages {
            do { try PaymentFrame.write(m, into: &payload, using: encoder.encoder) } catch {
                throw HostileError(.encoding, "\(m.type.name): \(error)")
            }
        }
        return Array(payload.readableBytesView)
    }

    public func send(_ messages: [Message], on stream: UInt32, timeout: Double = 10) throws(HostileError) {
        try sendStreamData(try encode(messages), on: stream, timeout: timeout)
    }

    /// Sends `bytes` on a stream in Data frames of ≤ 64 KiB within the window the node granted,
    /// pumping (reading) for WindowUpdates when it is used up. `.timeout` if none comes in time.
    public func sendStreamData(_ bytes: [UInt8], on stream: UInt32, timeout: Double = 10) throws(HostileError) {
        let deadline = Date().addingTimeInterval(timeout)
        var offset = 0
        while offset < bytes.count {
            guard streams[stream] != nil else { throw HostileError(.closed, "stream \(stream) was reset") }
            var plaintext = ByteBuffer()
            while offset < bytes.count, streams[stream]!.sendWindow > 0 {
                let n = min(bytes.count - offset, Self.maxDataPayload, streams[stream]!.sendWindow)
                YamuxFrame.data(StreamID(stream), payload: ByteBuffer(bytes: bytes[offset..<offset + n])).encode(into: &plaintext)
                streams[stream]!.sendWindow -= n
                offset += n
            }
            if plaintext.readableBytes > 0 {
                try sendPlaintext(Array(plaintext.readableBytesView), timeout: max(0.1, deadline.timeIntervalSinceNow))
            }
            if offset < bytes.count {
                let left = deadline.timeIntervalSinceNow
                guard left > 0 else { throw HostileError(.timeout, "no stream window from the node within \(timeout) s") }
                guard try pump(timeout: min(left, 0.5)) else { throw HostileError(.closed, "node closed the connection") }
            }
        }
    }

    // MARK: Receiving

    /// Reads what arrives within `timeout` s and processes it (answers pings, returns window,
    /// decodes messages). Returns false once the node has closed the connection.
    @discardableResult
    public func pump(timeout: Double) throws(HostileError) -> Bool {
        if closedByNode { return false }
        guard let bytes = try socket.receive(timeout: timeout) else { return true }
        if bytes.isEmpty {
            closedByNode = true
            return false
        }
        counters.bytesReceived += bytes.count
        noise.append(contentsOf: bytes)
        while let message = try nextNoiseMessage() {
            guard transport != nil else { throw HostileError(.protocolViolation, "transport message before the handshake") }
            let plaintext: [UInt8]
            do { plaintext = try transport!.decrypt(message) } catch {
                throw HostileError(.protocolViolation, "decrypt: \(error)")
            }
            mux.append(ByteBuffer(bytes: plaintext))
            while true {
                let frame: YamuxFrame?
                do { frame = try mux.next() } catch { throw HostileError(.protocolViolation, "yamux: \(error)") }
                guard let frame else { break }
                handle(frame)
            }
        }
        if !control.isEmpty {
            let frames = control
            control.removeAll()
            try send(frames: frames, timeout: 10)
        }
        return true
    }

    /// Pumps until the node closes the connection; true if it did within `timeout`.
    public func waitUntilClosed(timeout: Double) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while deadline.timeIntervalSinceNow > 0 {
            do throws(HostileError) { if try !pump(timeout: min(0.5, max(0, deadline.timeIntervalSinceNow))) { return true } } catch {
                if error.code == .closed { closedByNode = true; return true }
                if error.code == .protocolViolation { continue }
                return false
            }
        }
        return closedByNode
    }

    /// Takes the first message in the inbox that satisfies `predicate`, pumping for up to
    /// `timeout` s; nil when none came (check `closedByNode`).
    public func nextMessage(timeout: Double = 10, where predicate: (Message) -> Bool = { _ in true }) throws(HostileError) -> Message? {
        try nextEntry(timeout: timeout, where: predicate)?.message
    }

    /// `nextMessage` with the stream the message came on.
    public func nextEntry(timeout: Double = 10, where predicate: (Message) -> Bool = { _ in true }) throws(HostileError)
        -> (stream: UInt32, message: Message)?
    {
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            if let i = inbox.firstIndex(where: { predicate($0.message) }) { return inbox.remove(at: i) }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 || closedByNode { return nil }
            try pump(timeout: min(left, 0.5))
        }
    }

    private func handle(_ frame: YamuxFrame) {
        counters.framesReceived += 1
        switch frame.type {
        case .ping:
            if frame.flags.contains(.syn) {
                if answerPings {
                    control.append(.ping(value: frame.length, response: true))
                    counters.pingsAnswered += 1
                }
            } else {
                counters.pingResponses += 1
            }
        case .goAway:
            counters.goAway = frame.length
        case .windowUpdate, .data:
            let id = frame.streamID.rawValue
            if frame.flags.contains(.rst) {
                if streams.removeValue(forKey: id) != nil { counters.streamsReset += 1 }
                return
            }
            if streams[id] == nil {
                // A stream the node opened (even id): accept it.
                guard frame.flags.contains(.syn) else { return }
                streams[id] = StreamState(headerRemaining: nil)
                if grantWindow { control.append(.windowUpdate(StreamID(id), flags: .ack, delta: 0)) }
            }
            if frame.type == .windowUpdate {
                streams[id]!.sendWindow += Int(frame.length)
            } else {
                receiveData(frame.payload, on: id)
            }
        }
    }

    private func receiveData(_ payload: ByteBuffer, on id: UInt32) {
        var state = streams[id]!
        var bytes = payload
        state.consumed += bytes.readableBytes
        if state.headerRemaining == nil, let n = bytes.readInteger(as: UInt8.self) { state.headerRemaining = Int(n) }
        if let remaining = state.headerRemaining, remaining > 0 {
            let skip = min(remaining, bytes.readableBytes)
            state.protocolID += bytes.readBytes(length: skip) ?? []
            state.headerRemaining = remaining - skip
        }
        if state.headerRemaining == 0, state.raw == nil { state.raw = !Self.isPayments(state.protocolID) }
        if state.raw == true {
            if state.rawBytes.count + bytes.readableBytes <= Self.maxRawBytes { state.rawBytes += bytes.readableBytesView }
        } else if state.headerRemaining == 0, bytes.readableBytes > 0 {
            state.codec.feed(bytes)
            while true {
                do {
                    guard let m = try state.codec.nextMessage() else { break }
                    record(m, on: id)
                } catch {
                    counters.undecodableMessages += 1
                    if error.closesStream { break }
                }
            }
        }
        if grantWindow, state.consumed >= Self.windowUpdateThreshold {
            control.append(.windowUpdate(StreamID(id), delta: UInt32(state.consumed)))
            state.consumed = 0
        }
        streams[id] = state
    }

    static func isPayments(_ protocolID: [UInt8]) -> Bool {
        String(decoding: protocolID, as: UTF8.self).hasPrefix("/paymesh/payments/")
    }

    /// Sends length-prefixed frames (the framing of messages.md §2 and gossip.md §2) whose
    /// payloads are given as they are, on a stream of any protocol.
    public func sendFrames(_ payloads: [[UInt8]], on stream: UInt32, timeout: Double = 10) throws(HostileError) {
        var bytes: [UInt8] = []
        for p in payloads {
            let n = UInt32(truncatingIfNeeded: p.count)
            bytes += [UInt8(n >> 24), UInt8(truncatingIfNeeded: n >> 16), UInt8(truncatingIfNeeded: n >> 8), UInt8(truncatingIfNeeded: n)] + p
        }
        try sendStreamData(bytes, on: stream, timeout: timeout)
    }

    /// The next length-prefixed frame's payload on a stream the node opened naming `protocolID`
    /// (not decoded: the caller knows the protocol), pumping for up to `timeout` s; nil when none
    /// came. Frames of one stream come in order.
    public func nextRawFrame(protocol protocolID: String, timeout: Double = 10) throws(HostileError) -> [UInt8]? {
        let deadline = Date().addingTimeInterval(timeout)
        let name = Array(protocolID.utf8)
        while true {
            for (id, state) in streams.sorted(by: { $0.key < $1.key }) where id % 2 == 0 && state.protocolID == name && state.rawBytes.count >= 4 {
                let b = state.rawBytes
                let n = Int(b[0]) << 24 | Int(b[1]) << 16 | Int(b[2]) << 8 | Int(b[3])
                guard b.count >= 4 + n else { continue }
                streams[id]!.rawBytes = Array(b[(4 + n)...])
                return Array(b[4..<(4 + n)])
            }
            let left = deadline.timeIntervalSinceNow
            if left <= 0 || closedByNode { return nil }
            try pump(timeout: min(left, 0.5))
        }
    }

    private func record(_ m: Message, on stream: UInt32) {
        counters.messagesReceived += 1
        switch m {
        case .error(let e): counters.errors[e.code.rawValue, default: 0] += 1
        case .paymentAck(let a):
            if a.status == .accepted { counters.acksAccepted += 1 } else { counters.acksRejected[a.errorCode?.rawValue ?? 0, default: 0] += 1 }
        default: break
        }
        if keepMessages { inbox.append((stream, m)) }
    }
}

/// msgpack-c's encoder is a class holding a buffer; one per connection.
final class MsgpackEncoderBox: @unchecked Sendable {
    let encoder = PaymeshMsgpack.MsgpackEncoder()
}
