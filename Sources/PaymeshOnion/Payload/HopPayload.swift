public import PaymeshMessages
import PaymeshCrypto
import PaymeshMsgpack

/// Paymesh's per-hop payload (Specs/onion.md §6): a canonical msgpack map with one-letter keys,
/// amounts as decimal strings as everywhere in Paymesh (messages.md §3).
///
/// - forwarding hop: `{"c": bin(32) next channel id, "a": amount to forward, "e": outgoing expiry}`
/// - final hop: `{"a": amount, "e": expiry, "t": total amount, "h": bin(32) payment hash,
///   "p": bin(32) preimage (optional, spontaneous payments only)}`
public enum HopPayload: Sendable, Hashable {
    case forward(ForwardPayload)
    case final(FinalPayload)

    public struct ForwardPayload: Sendable, Hashable {
        /// The channel to the next hop, paid by this hop.
        public let nextChannel: ChannelID
        /// The HTLC amount this hop must lock on `nextChannel`.
        public let amountToForward: Amount
        /// The absolute expiry (unix ms) of the outgoing HTLC.
        public let outgoingExpiry: UInt64

        public init(nextChannel: ChannelID, amountToForward: Amount, outgoingExpiry: UInt64) {
            self.nextChannel = nextChannel
            self.amountToForward = amountToForward
            self.outgoingExpiry = outgoingExpiry
        }
    }

    public struct FinalPayload: Sendable, Hashable {
        /// What the incoming HTLC must carry (else FINAL_INCORRECT_AMOUNT, 1409).
        public let amount: Amount
        /// The incoming HTLC's expiry must equal this (else FINAL_INCORRECT_EXPIRY, 1410).
        public let expiry: UInt64
        /// The payment's total (the invoice amount); ≥ `amount`.
        public let totalAmount: Amount
        public let paymentHash: Hash32
        /// Only for a spontaneous payment (pay-to-node): SHA-256(preimage) = paymentHash.
        public let preimage: Hash32?

        public init(amount: Amount, expiry: UInt64, totalAmount: Amount, paymentHash: Hash32, preimage: Hash32? = nil) {
            self.amount = amount
            self.expiry = expiry
            self.totalAmount = totalAmount
            self.paymentHash = paymentHash
            self.preimage = preimage
        }
    }

    /// The longest payload accepted (a final payload with preimage and 39-digit amounts is 170 bytes).
    public static let maxEncodedLength = 256
    /// Msgpack limits for a payload: one flat map, ≤ 5 pairs, strings ≤ 39 digits, bin ≤ 32.
    static let limits = MsgpackLimits(maxDepth: 1, maxElements: 11, maxStringLength: Amount.maxDigits, maxBinaryLength: 32)

    /// The canonical msgpack bytes (messages.md §3 canonical form).
    public func encoded() -> [UInt8] {
        do { return try MsgpackEncoder.encode(value) } catch {
            preconditionFailure("a HopPayload always encodes: \(error)")
        }
    }

    /// Decodes and validates a payload: anything but the canonical encoding of a valid payload
    /// throws `malformedPayload` (a hop answers INVALID_ONION, 1406).
    public init(bytes: [UInt8]) throws(OnionError) {
        guard bytes.count <= Self.maxEncodedLength else { throw .malformedPayload("\(bytes.count) bytes > \(Self.maxEncodedLength)") }
        let value: MsgpackValue
        do { value = try MsgpackDecoder.decode(bytes, limits: Self.limits) } catch {
            throw .malformedPayload("not msgpack within limits: \(error)")
        }
        guard let pairs = value.mapValue else { throw .malformedPayload("not a map") }
        var fields: [String: MsgpackValue] = [:]
        for pair in pairs {
            guard let key = pair.key.stringValue else { throw .malformedPayload("a key is not a str") }
            guard fields.updateValue(pair.value, forKey: key) == nil else { throw .malformedPayload("duplicate key \(key)") }
        }
        let amount = try Self.amount(fields["a"], "a")
        let expiry = try Self.expiry(fields["e"])
        if fields["c"] != nil {
            guard fields.count == 3 else { throw .malformedPayload("a forwarding payload has exactly c, a, e") }
            let channel: ChannelID
            do { channel = try ChannelID(try Self.bin32(fields["c"], "c")) } catch { throw .malformedPayload("c: \(error)") }
            self = .forward(.init(nextChannel: channel, amountToForward: amount, outgoingExpiry: expiry))
        } else {
            let expected = fields["p"] == nil ? 4 : 5
            guard fields.count == expected, fields["t"] != nil, fields["h"] != nil else {
                throw .malformedPayload("a final payload has exactly a, e, t, h and optionally p")
            }
            let total = try Self.amount(fields["t"], "t")
            guard amount <= total else { throw .malformedPayload("amount \(amount) > total \(total)") }
            let hash: Hash32, preimage: Hash32?
            do {
                hash = try Hash32(try Self.bin32(fields["h"], "h"))
                preimage = try fields["p"].map { v throws(OnionError) in try Self.bin32(v, "p") }.map { try Hash32($0) }
            } catch let error as OnionError { throw error } catch { throw .malformedPayload("\(error)") }
            if let preimage, SHA256.hash(preimage.bytes) != hash.bytes {
                throw .malformedPayload("SHA-256(p) is not h")
            }
            self = .final(.init(amount: amount, expiry: expiry, totalAmount: total, paymentHash: hash, preimage: preimage))
        }
        guard encoded() == bytes else { throw .malformedPayload("not in canonical form (key order, integer or str width)") }
    }

    private var value: MsgpackValue {
        func pair(_ key: String, _ value: MsgpackValue) -> MsgpackPair { MsgpackPair(.string(key), value) }
        switch self {
        case .forward(let f):
            return .map([pair("c", .binary(f.nextChannel.bytes)), pair("a", .string(f.amountToForward.description)),
                         pair("e", .uint(f.outgoingExpiry))])
        case .final(let f):
            var pairs = [pair("a", .string(f.amount.description)), pair("e", .uint(f.expiry)),
                         pair("t", .string(f.totalAmount.description)), pair("h", .binary(f.paymentHash.bytes))]
            if let p = f.preimage { pairs.append(pair("p", .binary(p.bytes))) }
            return .map(pairs)
        }
    }

    private static func amount(_ value: MsgpackValue?, _ key: String) throws(OnionError) -> Amount {
        guard let text = value?.stringValue else { throw .malformedPayload("\(key) must be an amount str") }
        let amount: Amount
        do { amount = try Amount(decimal: text) } catch { throw .malformedPayload("\(key): \(error)") }
        guard amount > .zero else { throw .malformedPayload("\(key) must be > 0") }
        return amount
    }

    private static func expiry(_ value: MsgpackValue?) throws(OnionError) -> UInt64 {
        guard case .uint(let e)? = value, e > 0 else { throw .malformedPayload("e must be a uint > 0 (unix ms)") }
        return e
    }

    private static func bin32(_ value: MsgpackValue?, _ key: String) throws(OnionError) -> [UInt8] {
        guard let b = value?.binaryValue, b.count == 32 else { throw .malformedPayload("\(key) must be bin(32)") }
        return b
    }
}

extension PeeledOnion {
    /// The Paymesh payload of this hop (Specs/onion.md §4.3 step 5): a forwarding payload must
    /// come with a next packet and a final payload without one, else the onion is invalid (1406).
    public func paymeshPayload() throws(OnionError) -> HopPayload {
        let decoded = try HopPayload(bytes: payload)
        switch (decoded, isFinalHop) {
        case (.forward, false), (.final, true): return decoded
        case (.forward, true): throw .malformedPayload("a forwarding payload at the final hop")
        case (.final, false): throw .malformedPayload("a final payload with a next hop")
        }
    }
}
