import PaymeshCrypto
import PaymeshMessages

/// One hand-built value of every message type (independent of the vector file).
enum Samples {
    static func bytes(_ byte: UInt8, _ count: Int) -> [UInt8] { [UInt8](repeating: byte, count: count) }

    static let channel = try! ChannelID(Array(0..<32))
    static let alice = try! EthereumAddress(bytes(0x11, 20))
    static let bob = try! EthereumAddress(bytes(0x22, 20))
    static let sigA = try! Signature65(bytes(0xa1, 32) + bytes(0x3c, 32) + [27])
    static let sigB = try! Signature65(bytes(0xb2, 32) + bytes(0x4d, 32) + [28])
    static let htlc = try! HTLCID(bytes(0xf0, 16))
    static let negotiation = try! NegotiationID(bytes(0x5a, 16))
    static let usdc = try! Asset(id: "USDC", decimals: 6)
    static let t: UInt64 = 1_767_225_600_000

    static let all: [Message] = [
        .paymentOpen(try! PaymentOpen(
            channelID: channel, sender: alice, receiver: bob, asset: usdc, totalDeposit: Amount(100_000_000),
            challengePeriodSeconds: 3600, settlement: "local-ledger", chainID: 0, verifyingContract: .zero,
            nonce: 0, timestamp: t, signature: sigA)),
        .paymentUpdate(try! PaymentUpdate(channelID: channel, nonce: 1, amount: Amount(250), timestamp: t, signature: sigA)),
        .paymentUpdate(try! PaymentUpdate(channelID: channel, nonce: 2, amount: Amount(UInt128.max), timestamp: t,
                                          taskID: "task-1", signature: sigA)),
        .paymentClose(try! PaymentClose(channelID: channel, finalNonce: 2, finalAmount: Amount(500), cooperative: true,
                                        timestamp: t, signature: sigB, counterSignature: sigA)),
        .paymentAck(try! PaymentAck(channelID: channel, nonce: 2, status: .rejected, reason: "stale",
                                    errorCode: .nonceTooOld)),
        .htlcPropose(try! HTLCPropose(channelID: channel, htlcID: htlc, paymentHash: try! Hash32(bytes(0x7c, 32)),
                                      amount: Amount(1000), expiry: t + 60_000, onion: bytes(0x99, MessageLimits.onionBytes),
                                      nonce: 3, voucherAmount: Amount(1500), locks: [try! HTLCID(bytes(0xf1, 16))], timestamp: t,
                                      signature: sigA)),
        .htlcFulfill(HTLCFulfill(channelID: channel, htlcID: htlc, preimage: try! Hash32(bytes(0x42, 32)), timestamp: t)),
        .htlcCancel(try! HTLCCancel(channelID: channel, htlcID: htlc, reason: .htlcTimeout, failure: bytes(1, 64),
                                    timestamp: t)),
        .channelAnnounce(try! ChannelAnnounce(channelID: channel, peerA: alice, peerB: bob, capacity: Amount(5_000_000),
                                              asset: usdc, feeBase: Amount(1), feePPM: 100, expiryDeltaMillis: 600_000,
                                              timestamp: t, signatureA: sigA, signatureB: sigB)),
        .negotiatePropose(try! NegotiatePropose(negotiationID: negotiation, serviceType: "inference",
                                                proposedPrice: Amount(2500), asset: usdc,
                                                channelDeposit: Amount(1_000_000), timeoutSeconds: 300, timestamp: t)),
        .negotiateCounter(NegotiateCounter(negotiationID: negotiation, counterPrice: Amount(3000), timestamp: t)),
        .negotiateAccept(NegotiateAccept(negotiationID: negotiation, timestamp: t)),
        .negotiateReject(try! NegotiateReject(negotiationID: negotiation, reason: "no", timestamp: t)),
        .error(try! ErrorMessage(code: .rateLimited, message: "slow down", refType: 2)),
    ]
}
