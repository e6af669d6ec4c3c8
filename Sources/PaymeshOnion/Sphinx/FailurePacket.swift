import PaymeshCrypto

/// Failure onions (Specs/onion.md §5, BOLT 4 "Returning Errors"). The failing hop writes
/// HMAC_um(payload) ‖ payload with payload = failure_len(u16) ‖ message ‖ pad_len(u16) ‖ pad
/// and XORs it with its `ammag` stream; every hop upstream XORs with its own `ammag` stream;
/// the origin peels hop by hop until one `um` HMAC verifies, which names the failing hop.
public enum FailurePacket {
    /// The packet a failing hop sends upstream (already obfuscated with its own `ammag` key).
    /// `message` is at most `OnionLimits.maxFailureMessageLength` bytes; it is zero-padded so
    /// that message + pad ≥ 256 bytes.
    public static func create(sharedSecret: SharedSecret, message: [UInt8]) throws(OnionError) -> [UInt8] {
        guard message.count <= OnionLimits.maxFailureMessageLength else {
            throw .invalidFailure("message of \(message.count) bytes > \(OnionLimits.maxFailureMessageLength)")
        }
        let padLength = max(0, OnionLimits.failurePaddedLength - message.count)
        let body = be16(message.count) + message + be16(padLength) + [UInt8](repeating: 0, count: padLength)
        var packet = OnionPacket.hmac(sharedSecret.key(.um), body) + body
        try OnionPacket.xor(&packet, sharedSecret.key(.ammag))
        return packet
    }

    /// What a hop does to a failure packet it relays upstream: one more `ammag` layer.
    public static func wrap(_ packet: [UInt8], sharedSecret: SharedSecret) throws(OnionError) -> [UInt8] {
        try checkLength(packet)
        var out = packet
        try OnionPacket.xor(&out, sharedSecret.key(.ammag))
        return out
    }

    /// The origin's side: removes the layers of hops 0, 1, … in order until a hop's `um` HMAC
    /// verifies (constant-time); returns that hop's index and its failure message. A packet
    /// that no hop authenticates (corrupted, or from a hop off the route) throws
    /// `unattributableFailure`: the origin then blames the first hop's channel.
    public static func decrypt(_ packet: [UInt8], sharedSecrets: [SharedSecret]) throws(OnionError) -> (hopIndex: Int, message: [UInt8]) {
        try checkLength(packet)
        var data = packet
        for (i, secret) in sharedSecrets.enumerated() {
            try OnionPacket.xor(&data, secret.key(.ammag))
            let mac = Array(data[0..<OnionLimits.hmacLength])
            let body = Array(data[OnionLimits.hmacLength...])
            guard ConstantTime.equals(OnionPacket.hmac(secret.key(.um), body), mac) else { continue }
            return (i, try parseBody(body))
        }
        throw .unattributableFailure()
    }

    private static func parseBody(_ body: [UInt8]) throws(OnionError) -> [UInt8] {
        guard body.count >= 4 else { throw .invalidFailure("body shorter than its length fields") }
        let messageLength = Int(body[0]) << 8 | Int(body[1])
        guard 2 + messageLength + 2 <= body.count else { throw .invalidFailure("failure_len \(messageLength) overruns the packet") }
        let padAt = 2 + messageLength
        let padLength = Int(body[padAt]) << 8 | Int(body[padAt + 1])
        guard padAt + 2 + padLength == body.count else { throw .invalidFailure("pad_len \(padLength) does not match the packet") }
        return Array(body[2..<padAt])
    }

    private static func checkLength(_ packet: [UInt8]) throws(OnionError) {
        guard packet.count >= OnionLimits.hmacLength + 4, packet.count <= OnionLimits.maxFailurePacketLength else {
            throw .invalidFailure("packet of \(packet.count) bytes (\(OnionLimits.hmacLength + 4)…\(OnionLimits.maxFailurePacketLength))")
        }
    }

    private static func be16(_ n: Int) -> [UInt8] { [UInt8(n >> 8), UInt8(n & 0xff)] }
}
