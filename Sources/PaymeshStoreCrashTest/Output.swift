#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes one line to stdout with write(2): unbuffered, so a line is out of the process the
/// moment this returns (and a short pipe write is atomic, so lines never interleave).
func emit(_ line: String) {
    var text = line + "\n"
    text.withUTF8 { buffer in
        var offset = 0
        while offset < buffer.count {
            let n = write(1, buffer.baseAddress! + offset, buffer.count - offset)
            if n < 0 {
                if errno == EINTR { continue }
                _exit(3)
            }
            offset += n
        }
    }
}

func fail(_ message: String) -> Never {
    var text = message + "\n"
    text.withUTF8 { _ = write(2, $0.baseAddress!, $0.count) }
    _exit(2)
}
