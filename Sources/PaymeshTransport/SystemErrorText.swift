#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix

/// Socket and resolver errors as people read them: "connection refused", "no such file or
/// directory", "timed out after 10 s" — never NIO's low-level text
/// (`connect(descriptor:addr:size:): No such file or directory (errno: 2)`).
public enum SystemErrorText {
    public static func describe(_ error: any Error) -> String {
        switch error {
        case let io as IOError:
            return errnoText(io.errnoCode)
        case let failure as NIOConnectionError:
            // Every address tried failed: the first failure says why (refused, unreachable, …).
            if let first = failure.connectionErrors.first { return describe(first.error) }
            return "cannot resolve \(failure.host)"
        case let resolver as SocketAddressError:
            switch resolver {
            case .unknown(let host, _): return "cannot resolve \(host)"
            default: return "not a usable address"
            }
        case let channel as ChannelError:
            switch channel {
            case .connectTimeout(let t): return "no answer within \(t.nanoseconds / 1_000_000_000) s"
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed: return "the connection was closed"
            default: return "\(channel)"
            }
        default:
            return "\(error)"
        }
    }

    /// The C library's text for `errno`, lower-cased ("connection refused").
    static func errnoText(_ code: CInt) -> String {
        guard let text = strerror(code) else { return "system error \(code)" }
        return String(cString: text).lowercased()
    }
}
