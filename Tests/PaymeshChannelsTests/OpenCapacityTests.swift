import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import Testing

/// Specs/channels.md §3.2 steps 1b and 4 (issue 7 items 2 and 4): the payee's limits that depend
/// on its other channels, checked by the pure machine from an `OpenCapacity` the node supplies.
@Suite struct OpenCapacityTests {
    static func open(deposit: UInt128, signedBy key: IdentityKey = K.payer) throws -> PaymentOpen {
        let (channel, _) = try PayerChannel.open(key: key, payee: K.payeeAddress, asset: K.usdc, deposit: deposit,
                                                 salt: K.salt, now: K.t0)
        return channel.terms.open
    }

    static func refusal(_ result: PayeeChannel.OpenResult) -> PaymentAck? {
        guard case .rejected(_, let actions) = result else { return nil }
        #expect(actions.persisted.isEmpty)
        return actions.acks.first
    }

    @Test func anOpenBeyondThePerPayerLimitIsRefusedWith1005() throws {
        let policy = PayeeOpenPolicy(maxChannelsPerPeer: 2)
        #expect(PayeeOpenPolicy().maxChannelsPerPeer == PayeeOpenPolicy.defaultMaxChannelsPerPeer)
        let open = try Self.open(deposit: 10)
        let below = PayeeChannel.accept(open, key: K.payee, policy: policy, authenticatedPeer: K.payerAddress,
                                        capacity: OpenCapacity(channelsWithPayer: 1, committedInflow: 0), now: K.t0)
        guard case .accepted = below else { Issue.record("open below the limit refused"); return }
        let at = PayeeChannel.accept(open, key: K.payee, policy: policy, authenticatedPeer: K.payerAddress,
                                     capacity: OpenCapacity(channelsWithPayer: 2, committedInflow: 0), now: K.t0)
        let ack = try #require(Self.refusal(at))
        #expect(ack.status == .rejected && ack.errorCode == .channelLimitExceeded && ack.nonce == open.nonce)
        #expect(PaymeshErrorCode.channelLimitExceeded.rawValue == 1005 && PaymeshErrorCode.channelLimitExceeded.name == "CHANNEL_LIMIT_EXCEEDED")
        // The limit is checked before the signature (cheap first), after the identity.
        var forged = open
        forged.signature = .unsigned
        let forgedAt = PayeeChannel.accept(forged, key: K.payee, policy: policy, authenticatedPeer: K.payerAddress,
                                           capacity: OpenCapacity(channelsWithPayer: 2, committedInflow: 0), now: K.t0)
        #expect(Self.refusal(forgedAt)?.errorCode == .channelLimitExceeded)
        let stranger = PayeeChannel.accept(open, key: K.payee, policy: policy, authenticatedPeer: K.outsider.address,
                                           capacity: OpenCapacity(channelsWithPayer: 2, committedInflow: 0), now: K.t0)
        #expect(Self.refusal(stranger)?.errorCode == .identityNotVerified)
    }

    @Test func anOpenThatCouldOverflowThePayeesBooksIsRefusedWith1003() throws {
        let policy = PayeeOpenPolicy()
        let max = try Self.open(deposit: .max)
        // Alone, a deposit of 2^128 − 1 is legal (Specs/channels.md §7).
        guard case .accepted = PayeeChannel.accept(max, key: K.payee, policy: policy, authenticatedPeer: K.payerAddress,
                                                   capacity: OpenCapacity(channelsWithPayer: 0, committedInflow: 0), now: K.t0) else {
            Issue.record("a lone deposit of 2^128 - 1 was refused"); return
        }
        // After a deposit of 1 (or a balance of 1) it could pass 2^128 − 1: refused.
        let after = PayeeChannel.accept(max, key: K.payee, policy: policy, authenticatedPeer: K.payerAddress,
                                        capacity: OpenCapacity(channelsWithPayer: 1, committedInflow: 1), now: K.t0)
        #expect(Self.refusal(after)?.errorCode == .channelDepositInvalid)
        let unknown = PayeeChannel.accept(try Self.open(deposit: 1), key: K.payee, policy: policy, authenticatedPeer: K.payerAddress,
                                          capacity: OpenCapacity(channelsWithPayer: 1, committedInflow: nil), now: K.t0)
        #expect(Self.refusal(unknown)?.errorCode == .channelDepositInvalid)
        // Up to the top exactly is fine.
        guard case .accepted = PayeeChannel.accept(try Self.open(deposit: 1), key: K.payee, policy: policy, authenticatedPeer: K.payerAddress,
                                                   capacity: OpenCapacity(channelsWithPayer: 1, committedInflow: .max - 1), now: K.t0) else {
            Issue.record("an open reaching exactly 2^128 - 1 was refused"); return
        }
    }
}
