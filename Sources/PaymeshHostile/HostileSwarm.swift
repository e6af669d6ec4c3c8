import Foundation
import Glibc

/// Many hostile connections kept alive on one background thread: it reads from each when bytes
/// arrive (answering keepalive pings, so the node has no reason to drop them) until `close()`.
public final class HostileSwarm: @unchecked Sendable {
    private let lock = NSLock()
    private var connections: [HostileConnection]
    private let stopSignal = StopSignal()
    private let done = DispatchSemaphore(value: 0)
    private var closedCount = 0

    public init(_ connections: [HostileConnection]) {
        self.connections = connections
        let thread = Thread { [self] in serve() }
        thread.name = "hostile-swarm"
        thread.start()
    }

    /// Connections the node has not closed.
    public var openCount: Int { lock.withLock { connections.count - closedCount } }
    public var count: Int { lock.withLock { connections.count } }

    private func serve() {
        defer { done.signal() }
        while !stopSignal.isStopped {
            let live = lock.withLock { connections.filter { !$0.closedByNode && !$0.socket.isClosed } }
            if live.isEmpty { Thread.sleep(forTimeInterval: 0.05); continue }
            var fds = live.map { pollfd(fd: $0.socket.fd, events: Int16(POLLIN), revents: 0) }
            let n = poll(&fds, nfds_t(fds.count), 100)
            guard n > 0 else { continue }
            var closed = 0
            for (i, p) in fds.enumerated() where p.revents != 0 {
                let c = live[i]
                let open = (try? c.pump(timeout: 0)) ?? false
                if !open { closed += 1 }
            }
            if closed > 0 { lock.withLock { closedCount += closed } }
        }
    }

    /// Stops serving and closes every connection.
    public func close() {
        stopSignal.stop()
        done.wait()
        lock.withLock {
            for c in connections { c.close() }
        }
    }

    /// The first connection (e.g. to send on it while the others hold their slots).
    public var first: HostileConnection? { lock.withLock { connections.first } }
}
