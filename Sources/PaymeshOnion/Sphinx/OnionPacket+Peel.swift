public import PaymeshCrypto

/// What one hop learns from an onion (Specs/onion.md §4.3).
public struct PeeledOnion: Sendable {
    /// This hop's payload (without its length prefix).
    public let payload: [UInt8]
    /// The packet to forward, or nil when this hop is the final one (the next HMAC is all zero).
    public let next: OnionPacket?
    /// The secret shared with the origin: keeps `um`/`ammag` for a failure this hop returns or relays.
    public let sharedSecret: SharedSecret

    public var isFinalHop: Bool { next == nil }
}

extension OnionPacket {
    /// Peels one layer with this hop's node key. Checks the HMAC over the payload area and
    /// `associatedData` in constant time before decrypting anything; a hop that cannot peel
    /// answers INVALID_ONION (1406) and never forwards.
    public func peel(nodeKey: Secp256k1.PrivateKey, associatedData: [UInt8]) throws(OnionError) -> PeeledOnion {
        let secret = try SharedSecret.derive(nodeKey, ephemeralKey)
        let expected = Self.hmac(secret.key(.mu), hopPayloads, associatedData)
        guard ConstantTime.equals(expected, hmac) else { throw .hmacMismatch() }

        let length = OnionLimits.hopPayloadsLength
        var plain = hopPayloads + [UInt8](repeating: 0, count: length)
        try Self.xor(&plain, secret.key(.rho))
        let (payloadLength, prefix) = try BigSize.decode(plain[0...])
        guard payloadLength > 0 else { throw .malformedHopPayload("zero-length payload (legacy frames are not supported)") }
        guard payloadLength <= UInt64(OnionLimits.maxPayloadLength),
              prefix + Int(payloadLength) + OnionLimits.hmacLength <= length else {
            throw .malformedHopPayload("payload of \(payloadLength) bytes does not fit the packet")
        }
        let payloadEnd = prefix + Int(payloadLength)
        let nextHMAC = Array(plain[payloadEnd..<(payloadEnd + OnionLimits.hmacLength)])
        let payload = Array(plain[prefix..<payloadEnd])
        guard nextHMAC.contains(where: { $0 != 0 }) else {
            return PeeledOnion(payload: payload, next: nil, sharedSecret: secret)
        }
        let shiftedStart = payloadEnd + OnionLimits.hmacLength
        let nextPayloads = Array(plain[shiftedStart..<(shiftedStart + length)])
        let blinding = Self.blindingFactor(ephemeralKey, secret)
        let nextKey: Secp256k1.PublicKey
        do { nextKey = try ephemeralKey.multiplied(byScalar: blinding) } catch { throw .crypto(error) }
        return PeeledOnion(payload: payload, next: OnionPacket(ephemeralKey: nextKey, hopPayloads: nextPayloads, hmac: nextHMAC),
                           sharedSecret: secret)
    }

    /// Parses and peels the 1366 wire bytes in one step.
    public static func peel(bytes: some Collection<UInt8>, nodeKey: Secp256k1.PrivateKey,
                            associatedData: [UInt8]) throws(OnionError) -> PeeledOnion {
        try OnionPacket(bytes: bytes).peel(nodeKey: nodeKey, associatedData: associatedData)
    }
}
