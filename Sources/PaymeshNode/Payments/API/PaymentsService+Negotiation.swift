public import PaymeshCrypto
public import PaymeshMessages

/// Hands a NEGOTIATE_* message to the negotiation service; false when its bounded queue is full.
public typealias NegotiationInbox = @Sendable (EthereumAddress, Message) -> Bool

extension PaymentsService {
    /// NEGOTIATE_* messages on the payments stream go to `inbox` (Specs/negotiation.md §4); nil:
    /// they are answered with ERROR 1503 NEGOTIATION_NOT_SUPPORTED.
    public func setNegotiationInbox(_ inbox: NegotiationInbox?) { negotiationInbox = inbox }

    /// Sends a NEGOTIATE_* message to `peer` on its payments stream (opened when there is none).
    public func sendNegotiation(_ message: Message, to peer: EthereumAddress) throws(NodeError) {
        guard !stopped else { throw .shuttingDown() }
        write([message], to: peer)
    }

    /// The payer of the payee channel `id` (the gateway's client), nil when this node is not its payee.
    public func channelPayer(_ id: ChannelID) -> EthereumAddress? { payees[id]?.terms.payer }

    /// nil when delivered, else the ERROR to answer.
    func deliverNegotiation(_ m: Message, from peer: EthereumAddress) -> ErrorMessage? {
        guard let inbox = negotiationInbox else { return ErrorMessage(unchecked: .negotiationNotSupported, "this node does not negotiate", m) }
        return inbox(peer, m) ? nil : ErrorMessage(unchecked: .rateLimited, "too many negotiation messages; retry", m)
    }
}
