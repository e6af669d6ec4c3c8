import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages

/// What an honest peer never sends, found while handling one received chunk: counted against the
/// peer in the peer table (one report per chunk, not one actor hop per message), which bans it
/// per its misbehaviour policy. Refusals an honest peer can cause (a nonce already seen after a
/// reconnect, a deposit over policy, a channel that is closing) do not count.
struct Misbehaviour {
    /// Error codes that only a faulty or hostile peer causes (Specs/errors.md).
    static let codes: Set<PaymeshErrorCode> = [.invalidSignature, .malformedMessage, .identityNotVerified]

    private(set) var count = 0
    private(set) var firstReason: String?

    mutating func note(_ code: PaymeshErrorCode, _ detail: String) {
        guard Self.codes.contains(code) else { return }
        count += 1
        if firstReason == nil { firstReason = "\(code): \(detail)" }
    }

    /// Notes the peer messages a channel machine refused for such a reason.
    mutating func scan(_ actions: [ChannelAction]) {
        for case .notify(.peerMessageRejected(_, let code, let detail)) in actions { note(code, detail) }
    }
}

extension PaymentsService {
    func reportMisbehaviour(by peer: EthereumAddress, count: Int, reason: String) {
        logger.notice("peer misbehaved", metadata: ["peer": "\(peer)", "count": "\(count)", "first": "\(reason)"])
        let peers = self.peers
        spawn { await peers.reportMisbehaviour(peer, count: count, reason: reason) }
    }
}
