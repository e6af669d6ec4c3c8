import PaymeshMessages

/// Checks a channel-scheme proof against the requirements the gateway priced the request at and
/// the state of the client's channel (Specs/http402.md §4.3). Sans-IO and pure: the same inputs
/// give the same answer; nothing is remembered here — the payee channel, which persists the
/// accepted voucher, is the memory that makes a replay fail the next time.
public enum PaymentVerifier {
    /// The checks of §4.3, in order; the first that fails is the refusal:
    /// 1. scheme, network (and v2 `accepted` asset, payTo) are those of `requirements` — 1321 / 1322;
    /// 2. the channel exists (1000), is to `requirements.payTo` (1322), in its asset and network
    ///    (1321), and takes payments (1002);
    /// 3. the signature recovers the channel's payer in the channel's domain — 1101;
    /// 4. the nonce is above the channel's last accepted nonce — 1323 (a replay);
    /// 5. the cumulative amount grew by at least `requirements.amount` — 1302;
    /// 6. the cumulative amount is at most the channel's limit (deposit − locked) — 1100.
    public static func verify(_ proof: ChannelSchemeProof, requirements: PaymentRequirements,
                              channel: ChannelView?) throws(Pay402Error) -> AcceptedVoucher {
        guard proof.scheme == requirements.scheme, proof.network == requirements.network else {
            throw .schemeMismatch("the proof is not for \(requirements.scheme) on \(requirements.network)")
        }
        if let accepted = proof.accepted {
            guard accepted.payTo == requirements.payTo else { throw .wrongPayee("accepted.payTo is not this node") }
            guard accepted.asset == requirements.asset else { throw .schemeMismatch("accepted.asset is not \(requirements.asset)") }
        }
        let voucher = proof.voucher
        guard let channel, channel.channelID == voucher.channelID else {
            throw .unknownChannel("no channel of this id to this node")
        }
        guard channel.payee == requirements.payTo else { throw .wrongPayee("the channel's payee is not this node") }
        guard channel.asset.id == requirements.asset else {
            throw .schemeMismatch("the channel is in \(channel.asset.id), not \(requirements.asset)")
        }
        let network = ChannelScheme.network(of: channel.domain)
        guard network == requirements.network else { throw .schemeMismatch("the channel's domain is on \(network)") }
        guard channel.acceptsPayments else { throw .channelNotActive("the channel does not take payments") }
        guard voucher.nonce <= MessageLimits.maxVoucherNonce else { throw .malformed("nonce exceeds 2^63 - 1") }
        do { try voucher.verify(expectedSigner: channel.payer, domain: channel.domain) } catch {
            throw .invalidSignature("the voucher is not signed by the channel's payer")
        }
        guard voucher.nonce > channel.latestNonce else {
            throw .replayed("nonce \(voucher.nonce) is not above \(channel.latestNonce)")
        }
        let cumulative = voucher.amount.atomicUnits
        guard cumulative >= channel.latestAmount, cumulative - channel.latestAmount >= requirements.amount else {
            throw .underpaid("the voucher adds less than the price \(requirements.amount)")
        }
        guard cumulative <= channel.limit else { throw .overDeposit("cumulative amount exceeds the channel's deposit") }
        let digest: [UInt8]
        do { digest = try voucher.signingDigest(domain: channel.domain) } catch {
            preconditionFailure("a verified voucher has a digest")
        }
        return AcceptedVoucher(voucher: voucher, payer: channel.payer, increment: cumulative - channel.latestAmount,
                               network: network, digest: digest)
    }
}
