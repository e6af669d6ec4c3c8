import Foundation
import Glibc

/// A non-blocking TCP socket to a node on loopback, driven with poll() and explicit deadlines so
/// that no attack can hang its caller. The attacker decides what to send and whether to read.
public final class HostileSocket: @unchecked Sendable {
    public private(set) var fd: Int32
    /// POLLRDHUP (Linux, <poll.h> with _GNU_SOURCE; not imported into Swift): the peer shut down its side.
    static let pollRDHUP: Int16 = 0x2000
    public var isClosed: Bool { fd < 0 }

    private init(fd: Int32) { self.fd = fd }

    /// Connects to `host:port` (IPv4). `receiveBuffer` shrinks SO_RCVBUF before connecting, so a
    /// peer that never reads makes the node's writes back up quickly.
    public static func connect(host: String = "127.0.0.1", port: Int, timeout: Double = 10,
                               receiveBuffer: Int? = nil) throws(HostileError) -> HostileSocket {
        let fd = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard fd >= 0 else { throw .errno("socket") }
        let socket = HostileSocket(fd: fd)
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        if var size = receiveBuffer.map(Int32.init) {
            _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        guard inet_pton(AF_INET, host, &addr.sin_addr) == 1 else {
            socket.close()
            throw HostileError(.socket, "not an IPv4 address: \(host)")
        }
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 {
            guard Glibc.errno == EINPROGRESS else {
                let error = HostileError.errno("connect \(host):\(port)")
                socket.close()
                throw error
            }
            guard socket.wait(for: Int16(POLLOUT), timeout: timeout) else {
                socket.close()
                throw HostileError(.timeout, "connect \(host):\(port) took over \(timeout) s")
            }
            var error: Int32 = 0
            var len = socklen_t(MemoryLayout<Int32>.size)
            _ = getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len)
            if error != 0 {
                Glibc.errno = error
                let failure = HostileError.errno("connect \(host):\(port)")
                socket.close()
                throw failure
            }
        }
        return socket
    }

    /// True when `events` became ready before `timeout` seconds (or the socket has an error/hangup).
    public func wait(for events: Int16, timeout: Double) -> Bool {
        guard fd >= 0 else { return false }
        var p = pollfd(fd: fd, events: events, revents: 0)
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let ms = max(0, Int32(min(Double(Int32.max), deadline.timeIntervalSinceNow * 1000).rounded(.up)))
            let n = poll(&p, 1, ms)
            if n > 0 { return true }
            if n == 0 { return false }
            if Glibc.errno != EINTR { return false }
        }
    }

    /// Sends every byte or throws: `.timeout` when the node stopped reading for `timeout` s.
    public func sendAll(_ bytes: UnsafeRawBufferPointer, timeout: Double = 10) throws(HostileError) {
        var offset = 0
        let deadline = Date().addingTimeInterval(timeout)
        while offset < bytes.count {
            guard fd >= 0 else { throw HostileError(.closed, "socket closed") }
            let n = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n > 0 { offset += n; continue }
            if n < 0 && (Glibc.errno == EAGAIN || Glibc.errno == EWOULDBLOCK || Glibc.errno == EINTR) {
                let left = deadline.timeIntervalSinceNow
                if left <= 0 || !wait(for: Int16(POLLOUT), timeout: left) {
                    throw HostileError(.timeout, "node did not read for \(timeout) s (\(offset)/\(bytes.count) bytes sent)")
                }
                continue
            }
            throw .errno("send")
        }
    }

    public func sendAll(_ bytes: [UInt8], timeout: Double = 10) throws(HostileError) {
        let result: Result<Void, HostileError> = bytes.withUnsafeBytes { raw in
            do throws(HostileError) { try sendAll(raw, timeout: timeout); return .success(()) } catch { return .failure(error) }
        }
        try result.get()
    }

    /// Sends what fits now without waiting; returns the number of bytes taken (0 when full).
    public func trySend(_ bytes: UnsafeRawBufferPointer) throws(HostileError) -> Int {
        guard fd >= 0 else { throw HostileError(.closed, "socket closed") }
        let n = Glibc.send(fd, bytes.baseAddress!, bytes.count, Int32(MSG_NOSIGNAL) | Int32(MSG_DONTWAIT))
        if n >= 0 { return n }
        if Glibc.errno == EAGAIN || Glibc.errno == EWOULDBLOCK || Glibc.errno == EINTR { return 0 }
        throw .errno("send")
    }

    /// Bytes that arrived within `timeout` s: nil when none did, empty at EOF.
    public func receive(maximum: Int = 65_536, timeout: Double) throws(HostileError) -> [UInt8]? {
        guard fd >= 0 else { throw HostileError(.closed, "socket closed") }
        var buffer = [UInt8](repeating: 0, count: maximum)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress!, maximum, Int32(MSG_DONTWAIT)) }
            if n > 0 { return Array(buffer[0..<n]) }
            if n == 0 { return [] }
            let e = Glibc.errno
            if e == EINTR { continue }
            if e == ECONNRESET { return [] }
            guard e == EAGAIN || e == EWOULDBLOCK else { throw .errno("recv") }
            if timeout <= 0 || !wait(for: Int16(POLLIN), timeout: timeout) { return nil }
        }
    }

    /// True when the node has closed its side (EOF or reset is pending), without consuming data
    /// beyond what is already there.
    public var peerClosed: Bool {
        guard fd >= 0 else { return true }
        var p = pollfd(fd: fd, events: Int16(POLLIN) | HostileSocket.pollRDHUP, revents: 0)
        guard poll(&p, 1, 0) > 0 else { return false }
        if p.revents & (Int16(POLLHUP) | Int16(POLLERR) | HostileSocket.pollRDHUP) != 0 { return true }
        var byte: UInt8 = 0
        let n = Glibc.recv(fd, &byte, 1, Int32(MSG_PEEK) | Int32(MSG_DONTWAIT))
        return n == 0 || (n < 0 && Glibc.errno == ECONNRESET)
    }

    /// Abortive close (RST) when `reset`, else an orderly one.
    public func close(reset: Bool = false) {
        guard fd >= 0 else { return }
        if reset {
            var l = linger(l_onoff: 1, l_linger: 0)
            _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
        }
        _ = Glibc.close(fd)
        fd = -1
    }

    deinit { close() }

    /// Raises this process's soft descriptor limit to its hard limit (an attacker holding
    /// thousands of sockets needs them); returns the new soft limit.
    @discardableResult
    public static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return -1 }
        limit.rlim_cur = limit.rlim_max
        _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        _ = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        return Int(limit.rlim_cur)
    }
}
