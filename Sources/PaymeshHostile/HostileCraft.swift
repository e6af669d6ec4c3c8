import Foundation
public import PaymeshCrypto
public import PaymeshMessages
public import PaymeshMsgpack

/// Messages an attacker builds: signed with its own (throwaway) keys from PaymeshCrypto, or
/// deliberately wrong, following messages.md.
public enum HostileCraft {
    /// Milliseconds since the Unix epoch (messages.md "ts").
    public static func nowMillis() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }

    public static func randomChannelID() -> ChannelID {
        var g = SystemRandomNumberGenerator()
        return try! ChannelID((0..<32).map { _ in UInt8.random(in: 0...255, using: &g) })
    }

    /// A PAYMENT_OPEN from `payer` to `payee` signed by the payer (messages.md §4.1, §5.2). The
    /// deposit is whatever the attacker claims: nothing backs it.
    public static func open(from payer: HostileIdentity, to payee: EthereumAddress, deposit: UInt128,
                            channel: ChannelID = randomChannelID(), asset: String = "USDC", decimals: UInt8 = 6,
                            challengePeriodSeconds: UInt64 = 3_600, nonce: UInt64 = 0,
                            timestamp: UInt64 = nowMillis()) throws(HostileError) -> PaymentOpen {
        do {
            let open = try PaymentOpen(channelID: channel, sender: payer.address, receiver: payee,
                                       asset: try Asset(id: asset, decimals: decimals), totalDeposit: Amount(deposit),
                                       challengePeriodSeconds: challengePeriodSeconds, settlement: "local-ledger", chainID: 0,
                                       verifyingContract: .zero, nonce: nonce, timestamp: timestamp, signature: .unsigned)
            return try open.signed(with: payer.key)
        } catch { throw HostileError(.encoding, "PAYMENT_OPEN: \(error)") }
    }

    /// A voucher (PAYMENT_UPDATE) signed by `payer` in `domain` (messages.md §5.3).
    public static func voucher(_ channel: ChannelID, nonce: UInt64, amount: UInt128, payer: HostileIdentity,
                               domain: SigningDomain = SigningDomain(chainID: 0)) throws(HostileError) -> PaymentUpdate {
        do {
            return try PaymentUpdate(channelID: channel, nonce: nonce, amount: Amount(amount), timestamp: nowMillis(),
                                     signature: .unsigned).signed(with: payer.key, domain: domain)
        } catch { throw HostileError(.encoding, "PAYMENT_UPDATE: \(error)") }
    }

    /// A PAYMENT_CLOSE signed only by `closer`, claiming whatever final state it likes
    /// (messages.md §4.3, §5.4).
    public static func close(_ channel: ChannelID, finalNonce: UInt64, finalAmount: UInt128, cooperative: Bool,
                             closer: HostileIdentity, domain: SigningDomain = SigningDomain(chainID: 0)) throws(HostileError) -> PaymentClose {
        do {
            return try PaymentClose(channelID: channel, finalNonce: finalNonce, finalAmount: Amount(finalAmount), cooperative: cooperative,
                                    timestamp: nowMillis(), signature: .unsigned).signed(with: closer.key, domain: domain)
        } catch { throw HostileError(.encoding, "PAYMENT_CLOSE: \(error)") }
    }

    public static func ack(_ channel: ChannelID, nonce: UInt64, accepted: Bool = true) throws(HostileError) -> PaymentAck {
        do {
            return try PaymentAck(channelID: channel, nonce: nonce, status: accepted ? .accepted : .rejected,
                                  errorCode: accepted ? nil : .invalidAmount)
        } catch { throw HostileError(.encoding, "PAYMENT_ACK: \(error)") }
    }

    /// One length-prefixed frame (messages.md §2) whose payload is `envelope`, encoded as given.
    public static func frame(envelope: MsgpackValue) throws(HostileError) -> [UInt8] {
        let payload: [UInt8]
        do { payload = try MsgpackEncoder.encode(envelope) } catch { throw HostileError(.encoding, "msgpack: \(error)") }
        let n = UInt32(payload.count)
        return [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)] + payload
    }

    /// A well-formed envelope of a type id that does not exist (messages.md §3.1 step 5: the node
    /// answers ERROR 1500). Ids 13 and 14 are unassigned.
    public static func unknownTypeFrame(type: UInt64 = 13) -> [UInt8] {
        try! frame(envelope: .map([MsgpackPair(.string("v"), .uint(1)), MsgpackPair(.string("type"), .uint(type)),
                                   MsgpackPair(.string("data"), .map([]))]))
    }

    /// A yamux header that breaks mux.md §1 (version 1): a connection-level protocol error.
    public static let badVersionFrame: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0]

    /// `count` Ping SYN frames (mux.md §6), values counting up from `first`.
    public static func pings(_ count: Int, first: UInt32 = 0x4000_0000) -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(count * 12)
        for i in 0..<count {
            let v = first &+ UInt32(truncatingIfNeeded: i)
            out += [0, 2, 0, 1, 0, 0, 0, 0, UInt8(v >> 24), UInt8((v >> 16) & 0xFF), UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
        }
        return out
    }
}
