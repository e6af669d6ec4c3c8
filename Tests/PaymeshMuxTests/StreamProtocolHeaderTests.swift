import NIOCore
import PaymeshMux
import Testing

extension StreamProtocolID {
    /// Ids of Specs/streams.md; the mux module itself names no application protocol.
    static let payments = try! StreamProtocolID("/paymesh/payments/1")
    static let gossip = try! StreamProtocolID("/paymesh/gossip/1")
    static let console = try! StreamProtocolID("/paymesh/console/1")
}

@Suite struct StreamProtocolHeaderTests {
    @Test func encodesLengthThenASCII() {
        let b = StreamProtocolHeader.encode(.payments)
        #expect(Array(b.readableBytesView) == [19] + Array("/paymesh/payments/1".utf8))
    }

    @Test func decodesWholeWithRemainder() throws {
        var b = StreamProtocolHeader.encode(.gossip)
        b.writeString("payload")
        var decoder = StreamProtocolHeader()
        let result = try #require(try decoder.decode(b))
        #expect(result.protocol == .gossip)
        #expect(result.remainder == ByteBuffer(string: "payload"))
    }

    @Test func decodesOneByteAtATime() throws {
        var b = StreamProtocolHeader.encode(.console)
        b.writeString("ab")
        var decoder = StreamProtocolHeader()
        var result: (protocol: StreamProtocolID, remainder: ByteBuffer)?
        var fed = 0
        while result == nil, let byte = b.readSlice(length: 1) {
            result = try decoder.decode(byte)
            fed += 1
        }
        #expect(fed == 19)  // 1 length byte + 18 id bytes; nothing after it was needed
        #expect(result?.protocol == .console)
        #expect(result?.remainder.readableBytes == 0)
        #expect(b == ByteBuffer(string: "ab"))
    }

    @Test func rejectsBadHeaders() {
        var zero = StreamProtocolHeader()
        #expect(throws: MuxError.invalidProtocolID()) { try zero.decode(ByteBuffer(bytes: [0, 65])) }
        var nonASCII = StreamProtocolHeader()
        #expect(throws: MuxError.invalidProtocolID()) { try nonASCII.decode(ByteBuffer(bytes: [2, 0x2F, 0xC3])) }
        #expect(throws: MuxError.invalidProtocolID()) { try StreamProtocolID("") }
        #expect(throws: MuxError.invalidProtocolID()) { try StreamProtocolID("/paymesh/has space/1") }
        #expect(throws: MuxError.invalidProtocolID()) { try StreamProtocolID(String(repeating: "a", count: 256)) }
        #expect(throws: Never.self) { try StreamProtocolID(String(repeating: "a", count: 255)) }
    }

    /// streams.md end to end: the opener sends header + request without waiting; an acceptor
    /// that speaks the protocol accepts and answers, one that does not resets the stream.
    @Test func selectionOverMux() throws {
        var pair = MuxPair()
        pair.autoAccept = false
        let supported: Set<StreamProtocolID> = [.payments]
        let good = try pair.dialer.openStream()
        let bad = try pair.dialer.openStream()
        for (id, proto) in [(good, StreamProtocolID.payments), (bad, .gossip)] {
            var first = StreamProtocolHeader.encode(proto)
            first.writeString("request")
            try pair.on(.dialer) { try $0.write(stream: id, data: first) }
        }
        pair.run()
        for id in [good, bad] {
            var decoder = StreamProtocolHeader()
            let header = try #require(try decoder.decode(ByteBuffer(bytes: pair.data(.listener, id))))
            #expect(header.remainder == ByteBuffer(string: "request"))
            if supported.contains(header.protocol) {
                try pair.on(.listener) { try $0.write(stream: id, data: ByteBuffer(string: "reply")) }
            } else {
                pair.on(.listener) { $0.reset(stream: id) }
            }
        }
        pair.run()
        #expect(pair.data(.dialer, good) == Array("reply".utf8))
        #expect(pair.dialer.state(of: good) == .established)
        #expect(pair.events(.dialer) == [.streamReset(bad), .streamClosed(bad)])
    }
}
