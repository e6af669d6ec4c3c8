/// Splits the console byte stream into lines (Specs/console.md §2). Sans-IO.
///
/// A line ends at `\n`; a `\r` before it is dropped; empty lines are skipped. A line longer
/// than `maxLineBytes` is reported once as `.overlong` and discarded up to its newline, so the
/// session continues with the next line without buffering the excess.
public struct ConsoleLineFramer: Sendable {
    /// Specs/console.md §2: a request line is at most 1 MiB.
    public static let defaultMaxLineBytes = 1 << 20

    public enum Event: Hashable, Sendable {
        case line([UInt8])
        case overlong
    }

    public let maxLineBytes: Int
    private var pending: [UInt8] = []
    private var discarding = false

    public init(maxLineBytes: Int = Self.defaultMaxLineBytes) {
        precondition(maxLineBytes > 0)
        self.maxLineBytes = maxLineBytes
    }

    /// Bytes buffered for an unfinished line.
    public var bufferedBytes: Int { pending.count }

    public mutating func append(_ bytes: some Collection<UInt8>) -> [Event] {
        var events: [Event] = []
        var rest = bytes[...]
        while !rest.isEmpty {
            guard let newline = rest.firstIndex(of: UInt8(ascii: "\n")) else {
                absorb(rest, into: &events)
                break
            }
            absorb(rest[..<newline], into: &events)
            if discarding {
                discarding = false
            } else {
                if pending.last == UInt8(ascii: "\r") { pending.removeLast() }
                if pending.count > maxLineBytes {
                    events.append(.overlong)
                } else if !pending.isEmpty {
                    events.append(.line(pending))
                }
            }
            pending.removeAll(keepingCapacity: pending.capacity <= 4096)
            rest = rest[rest.index(after: newline)...]
        }
        return events
    }

    private mutating func absorb(_ chunk: some Collection<UInt8>, into events: inout [Event]) {
        guard !discarding else { return }
        if pending.count + chunk.count > maxLineBytes + 1 { // +1: room for a trailing \r
            pending.removeAll()
            discarding = true
            events.append(.overlong)
        } else {
            pending.append(contentsOf: chunk)
        }
    }
}
