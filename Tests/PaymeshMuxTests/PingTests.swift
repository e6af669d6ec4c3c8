import NIOCore
import PaymeshMux
import Testing

@Suite struct PingTests {
    @Test func pingMeasuresRTTWithMockClock() throws {
        var pair = MuxPair()
        pair.on(.dialer) { $0.ping(value: 42, now: t0) }
        pair.now = t0 + .milliseconds(7)
        pair.run()
        #expect(pair.events(.dialer) == [.pingResponse(value: 42, rtt: .milliseconds(7))])
        #expect(pair.events(.listener).isEmpty)
    }

    @Test func pingIsAnsweredWithAck() throws {
        var listener = YamuxSession(role: .listener)
        let actions = listener.receive(encoded(.ping(value: 9, response: false)), now: t0)
        #expect(try sentFrames(actions) == [.ping(value: 9, response: true)])
        // An unsolicited response is ignored.
        #expect(listener.receive(encoded(.ping(value: 5, response: true)), now: t0).isEmpty)
    }

    static let config = MuxConfiguration(keepaliveInterval: .seconds(30), pingTimeout: .seconds(10))

    @Test func keepaliveTimeoutCloses() throws {
        var session = YamuxSession(role: .dialer, configuration: Self.config)
        #expect(session.onTimerTick(now: t0).isEmpty)  // starts the interval
        #expect(session.onTimerTick(now: t0 + .seconds(29)).isEmpty)
        let ping = session.onTimerTick(now: t0 + .seconds(30))
        #expect(try sentFrames(ping) == [.ping(value: 1, response: false)])
        #expect(session.nextDeadline == t0 + .seconds(40))
        #expect(session.onTimerTick(now: t0 + .seconds(39)).isEmpty)
        let actions = session.onTimerTick(now: t0 + .seconds(40))
        #expect(actions == [.closeConnection(.keepaliveTimeout())])
        #expect(session.isClosed)
    }

    @Test func answeredKeepaliveKeepsSessionOpen() throws {
        var pair = MuxPair(dialer: Self.config)
        pair.on(.dialer) { $0.onTimerTick(now: t0) }
        pair.on(.dialer) { $0.onTimerTick(now: t0 + .seconds(30)) }
        pair.now = t0 + .seconds(31)
        pair.run()
        #expect(pair.events(.dialer) == [.pingResponse(value: 1, rtt: .seconds(1))])
        pair.on(.dialer) { $0.onTimerTick(now: t0 + .seconds(45)) }
        #expect(!pair.dialer.isClosed)
        pair.on(.dialer) { $0.onTimerTick(now: t0 + .seconds(60)) }
        pair.on(.dialer) { $0.onTimerTick(now: t0 + .seconds(75)) }
        #expect(pair.dialer.isClosed)  // the second keepalive was never delivered
    }

    @Test func keepaliveCanBeDisabled() {
        var session = YamuxSession(role: .dialer, configuration: MuxConfiguration(keepaliveInterval: nil))
        #expect(session.onTimerTick(now: t0).isEmpty)
        #expect(session.onTimerTick(now: t0 + .seconds(3600)).isEmpty)
        #expect(session.nextDeadline == nil)
    }
}
