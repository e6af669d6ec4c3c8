import Foundation
import Glibc
public import PaymeshMessages

/// The attacks of issue 7, each bounded by a duration (or a count) and a `StopSignal`, each
/// returning what it did. Blocking: run them with `offload` from async code.
public enum HostileAttacks {
    // MARK: Unauthenticated

    /// Keeps up to `count` TCP connections open that each sent `bytes` (by default the first
    /// byte of a handshake frame's length) and then stall; replaces those the node closes.
    /// Counts: connected, connectFailures, closedByNode, maxHeld.
    public static func stalledHandshakes(_ target: HostileTarget, count: Int, seconds: Double, bytes: [UInt8] = [0],
                                         stop: StopSignal = StopSignal()) -> AttackReport {
        var report = AttackReport(name: "stalledHandshakes")
        let start = Date(), deadline = start.addingTimeInterval(seconds)
        var held: [HostileSocket] = []
        defer { for s in held { s.close() } }
        while deadline.timeIntervalSinceNow > 0, !stop.isStopped {
            var failuresInRow = 0
            while held.count < count, deadline.timeIntervalSinceNow > 0, !stop.isStopped, failuresInRow < 20 {
                do throws(HostileError) {
                    let s = try HostileSocket.connect(host: target.host, port: target.port, timeout: 0.5)
                    if !bytes.isEmpty { try s.sendAll(bytes, timeout: 0.5) }
                    held.append(s)
                    report["connected"] += 1
                    failuresInRow = 0
                } catch {
                    report["connectFailures"] += 1
                    report.note(error)
                    failuresInRow += 1
                }
            }
            report["maxHeld"] = max(report["maxHeld"], held.count)
            let closed = closedIndices(held)
            if !closed.isEmpty {
                report["closedByNode"] += closed.count
                for i in closed.reversed() { held[i].close(); held.remove(at: i) }
            }
            Thread.sleep(forTimeInterval: failuresInRow >= 20 ? 0.2 : 0.05)
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// Indices of sockets whose peer has closed (EOF, reset or error pending).
    static func closedIndices(_ sockets: [HostileSocket]) -> [Int] {
        guard !sockets.isEmpty else { return [] }
        var fds = sockets.map { pollfd(fd: $0.fd, events: Int16(POLLIN) | HostileSocket.pollRDHUP, revents: 0) }
        guard poll(&fds, nfds_t(fds.count), 0) > 0 else { return [] }
        return fds.indices.filter { fds[$0].revents != 0 && sockets[$0].peerClosed }
    }

    /// Completes a handshake and closes at once, again and again (fresh identities when asked).
    /// Counts: handshakes, failures.
    public static func handshakeThenClose(_ target: HostileTarget, seconds: Double, freshIdentities: Bool = false,
                                          stop: StopSignal = StopSignal()) -> AttackReport {
        var report = AttackReport(name: "handshakeThenClose")
        let start = Date(), deadline = start.addingTimeInterval(seconds)
        let fixed = try? HostileIdentity.throwaway()
        while deadline.timeIntervalSinceNow > 0, !stop.isStopped {
            do throws(HostileError) {
                var identity = fixed
                if freshIdentities { identity = try HostileIdentity.throwaway() }
                let c = try HostileConnection.connect(host: target.host, port: target.port, identity: identity, timeout: 5)
                c.close()
                report["handshakes"] += 1
            } catch {
                report["failures"] += 1
                report.note(error)
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    // MARK: Authenticated, resource exhaustion

    /// One authenticated connection that sends Ping SYNs as fast as the node takes them and
    /// never reads a reply (a tiny receive buffer, nothing read). Counts: pings, sendBlocked
    /// (1 when the node stopped taking bytes: back-pressure), closedByNode.
    public static func pingFlood(_ target: HostileTarget, seconds: Double, pingsPerMessage: Int = 5_000,
                                 stop: StopSignal = StopSignal()) -> AttackReport {
        onOneConnection("pingFlood", target, seconds: seconds, receiveBuffer: 4_096) { c, deadline, report throws(HostileError) in
            var first: UInt32 = 0x4000_0000
            while deadline.timeIntervalSinceNow > 0, !stop.isStopped {
                let wire = try c.seal(HostileCraft.pings(pingsPerMessage, first: first))
                first &+= UInt32(pingsPerMessage)
                do throws(HostileError) {
                    try c.socket.sendAll(wire, timeout: max(0.05, min(1, deadline.timeIntervalSinceNow)))
                    report["pings"] += pingsPerMessage
                } catch where error.code == .timeout {
                    report["sendBlocked"] = 1
                    if c.socket.peerClosed { report["closedByNode"] = 1; break }
                    // A partial message was written: the stream is now unusable; keep the
                    // connection open (its buffers are what is measured) until the end.
                    while deadline.timeIntervalSinceNow > 0, !stop.isStopped, !c.socket.peerClosed { Thread.sleep(forTimeInterval: 0.1) }
                    if c.socket.peerClosed { report["closedByNode"] = 1 }
                    break
                }
            }
        }
    }

    /// Runs one attack on one authenticated connection: the connection, the deadline, the
    /// bookkeeping of a close by the node (as an error or seen by the connection) and the
    /// attack's duration are the same for every such attack.
    static func onOneConnection(_ name: String, _ target: HostileTarget, seconds: Double, receiveBuffer: Int? = nil,
                                _ body: (HostileConnection, _ deadline: Date, inout AttackReport) throws(HostileError) -> Void)
        -> AttackReport
    {
        var report = AttackReport(name: name)
        let start = Date(), deadline = start.addingTimeInterval(seconds)
        do throws(HostileError) {
            let c = try HostileConnection.connect(host: target.host, port: target.port, timeout: 10, receiveBuffer: receiveBuffer)
            defer { c.close() }
            try body(c, deadline, &report)
            if c.closedByNode { report["closedByNode"] = 1 }
        } catch {
            if error.code == .closed { report["closedByNode"] = 1 }
            report.note(error)
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// One authenticated connection on a payments stream that sends messages of an unknown type
    /// (each answered with ERROR 1500) and never grants the node stream window for its replies.
    /// It reads only to learn the window the node grants it. Counts: messages, errorsRead,
    /// windowWaits, closedByNode.
    public static func errorReplyFlood(_ target: HostileTarget, seconds: Double, batch: Int = 2_000,
                                       stop: StopSignal = StopSignal()) -> AttackReport {
        onOneConnection("errorReplyFlood", target, seconds: seconds) { c, deadline, report throws(HostileError) in
            c.grantWindow = false
            c.keepMessages = false
            let stream = try c.openStream()
            let one = HostileCraft.unknownTypeFrame()
            var bytes = [UInt8]()
            bytes.reserveCapacity(one.count * batch)
            for _ in 0..<batch { bytes += one }
            while deadline.timeIntervalSinceNow > 0, !stop.isStopped {
                do throws(HostileError) {
                    try c.sendStreamData(bytes, on: stream, timeout: max(0.05, deadline.timeIntervalSinceNow))
                    report["messages"] += batch
                } catch where error.code == .timeout {
                    report["windowWaits"] += 1
                    break
                }
            }
            report["errorsRead"] = c.counters.errors[1500] ?? 0
        }
    }

    /// Fresh identities that each handshake and then break yamux (a version-1 header), which a
    /// node answers by closing (and, today, banning the identity). Counts: violations, closedByNode,
    /// goAwayProtocolError (GoAway code 1 seen before the close, mux.md §7), failures.
    public static func throwawayIdentityViolations(_ target: HostileTarget, seconds: Double, maxCount: Int = .max,
                                                   stop: StopSignal = StopSignal()) -> AttackReport {
        var report = AttackReport(name: "throwawayIdentityViolations")
        let start = Date(), deadline = start.addingTimeInterval(seconds)
        while deadline.timeIntervalSinceNow > 0, !stop.isStopped, report["violations"] < maxCount {
            do throws(HostileError) {
                let c = try HostileConnection.connect(host: target.host, port: target.port, timeout: 5)
                defer { c.close() }
                try c.sendPlaintext(HostileCraft.badVersionFrame)
                report["violations"] += 1
                if c.waitUntilClosed(timeout: min(5, max(0.1, deadline.timeIntervalSinceNow))) { report["closedByNode"] += 1 }
                if c.counters.goAway == 1 { report["goAwayProtocolError"] += 1 }
            } catch {
                report["failures"] += 1
                report.note(error)
                Thread.sleep(forTimeInterval: 0.01)
            }
        }
        report.seconds = Date().timeIntervalSince(start)
        return report
    }

    /// `count` fresh identities that connect and stay connected (answering keepalive pings) to
    /// fill the node's peer slots. Counts: connected, failures, closedByNode (after `settle` s).
    public static func fillMaxPeers(_ target: HostileTarget, count: Int, settle: Double = 1) -> (HostileSwarm, AttackReport) {
        var report = AttackReport(name: "fillMaxPeers")
        let start = Date()
        var connections: [HostileConnection] = []
        for _ in 0..<count {
            do throws(HostileError) {
                connections.append(try HostileConnection.connect(host: target.host, port: target.port, timeout: 5))
                report["connected"] += 1
            } catch {
                report["failures"] += 1
                report.note(error)
            }
        }
        let swarm = HostileSwarm(connections)
        Thread.sleep(forTimeInterval: settle)
        report["closedByNode"] = swarm.count - swarm.openCount
        report.seconds = Date().timeIntervalSince(start)
        return (swarm, report)
    }

    // MARK: Channels

    /// One identity sending signed PAYMENT_OPENs (fresh channel ids, an unbacked `deposit`) as
    /// fast as the node takes them, reading its acks. Counts: opens, accepted, rejected, closedByNode.
    public static func openFlood(_ target: HostileTarget, seconds: Double, deposit: UInt128 = 1_000_000, batch: Int = 64,
                                 drainSeconds: Double = 2, stop: StopSignal = StopSignal()) -> AttackReport {
        onOneConnection("openFlood", target, seconds: seconds) { c, deadline, report throws(HostileError) in
            c.keepMessages = false
            guard let node = c.peer?.address else { throw HostileError(.handshake, "no peer") }
            let stream = try c.openStream()
            while deadline.timeIntervalSinceNow > 0, !stop.isStopped {
                var opens: [Message] = []
                for _ in 0..<batch { opens.append(.paymentOpen(try HostileCraft.open(from: c.identity, to: node, deposit: deposit))) }
                do throws(HostileError) {
                    try c.send(opens, on: stream, timeout: max(0.05, deadline.timeIntervalSinceNow))
                    report["opens"] += batch
                } catch where error.code == .timeout { break }
                guard try c.pump(timeout: 0) else { break }
            }
            // Collect the acks that are on their way (bounded).
            let drain = Date().addingTimeInterval(drainSeconds)
            while drain.timeIntervalSinceNow > 0, c.counters.acksAccepted + c.counters.acksRejected.values.reduce(0, +) < report["opens"] {
                guard try c.pump(timeout: 0.2) else { break }
            }
            report["accepted"] = c.counters.acksAccepted
            report["rejected"] = c.counters.acksRejected.values.reduce(0, +)
        }
    }

    /// Issue 7 item 2: from a fresh identity, PAYMENT_OPEN with deposit 1, then one with
    /// 2^128 − 1, then a probe open (deposit 1) showing whether the node still answers.
    /// Returns the three acks (nil: no answer within `timeout` each).
    public static func hugeDepositOpens(_ target: HostileTarget, timeout: Double = 10) throws(HostileError)
        -> (small: PaymentAck?, huge: PaymentAck?, probe: PaymentAck?)
    {
        let c = try HostileConnection.connect(host: target.host, port: target.port, timeout: 10)
        defer { c.close() }
        guard let node = c.peer?.address else { throw HostileError(.handshake, "no peer") }
        let stream = try c.openStream()
        var acks: [PaymentAck?] = []
        for deposit in [UInt128(1), UInt128.max, UInt128(1)] {
            let open = try HostileCraft.open(from: c.identity, to: node, deposit: deposit)
            try c.send([.paymentOpen(open)], on: stream)
            acks.append(try c.ack(for: open.channelID, nonce: open.nonce, timeout: timeout))
        }
        return (acks[0], acks[1], acks[2])
    }
}
