import PaymeshCrypto
import PaymeshGossip

/// The router's `.misbehaviour` / `.closeStream` actions that only a faulty or hostile peer causes
/// (Specs/gossip.md §10.4), gathered per peer over one batch of actions so that the peer manager
/// gets one report per peer and batch. A bad signature (a forgery: honest peers verify before they
/// forward), a malformed frame or body and lost framing count; a timestamp outside the window or a
/// message the graph rejects do not (an honest forwarder's clock or graph may differ from ours):
/// those stay with the router's score (P4).
struct GossipMisbehaviour {
    static let kinds: Set<GossipError.Kind> = [.invalidSignature, .malformedFrame, .malformedMessage, .badFrameLength]

    private(set) var reports: [EthereumAddress: (count: Int, first: String)] = [:]

    mutating func note(_ peer: EthereumAddress, _ error: GossipError) {
        guard Self.kinds.contains(error.kind) else { return }
        if let r = reports[peer] {
            reports[peer] = (r.count + 1, r.first)
        } else {
            reports[peer] = (1, "\(error)")
        }
    }
}
