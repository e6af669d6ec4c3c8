/// Reassembles gossip frames from a byte stream cut anywhere (Specs/gossip.md §2). Holds at most
/// one frame (≤ 4 + 65,536 bytes). After a bad length it stays failed: close the stream.
public struct GossipFrameDecoder: Sendable {
    private var buffer: [UInt8] = []
    private var start = 0
    private var failure: GossipError?

    public init() {}

    /// Bytes received but not yet returned in a frame.
    public var bufferedBytes: Int { buffer.count - start }

    /// Appends `bytes` and returns every complete frame payload they finish, in order. A bad length
    /// prefix throws `.badFrameLength` as soon as its 4 bytes are in, and again on every later call.
    public mutating func feed(_ bytes: some Collection<UInt8>) throws(GossipError) -> [[UInt8]] {
        if let failure { throw failure }
        buffer.append(contentsOf: bytes)
        var frames: [[UInt8]] = []
        while buffer.count - start >= GossipFrame.headerBytes {
            let length = buffer[start..<start + 4].reduce(0) { $0 << 8 | Int($1) }
            guard (1...GossipLimits.maxFrameBytes).contains(length) else {
                let error = GossipError(.badFrameLength, "frame length \(length) outside 1…\(GossipLimits.maxFrameBytes)")
                failure = error
                buffer = []
                start = 0
                throw error
            }
            guard buffer.count - start - 4 >= length else { break }
            frames.append(Array(buffer[start + 4..<start + 4 + length]))
            start += 4 + length
        }
        if start == buffer.count {
            buffer.removeAll(keepingCapacity: buffer.capacity <= 2 * GossipLimits.maxFrameBytes)
            start = 0
        } else if start > GossipLimits.maxFrameBytes {
            buffer.removeFirst(start)
            start = 0
        }
        return frames
    }
}
