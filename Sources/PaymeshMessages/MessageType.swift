import PaymeshMsgpack

/// The 13 message type ids, numbered and named as AgentPay numbers and names them.
public enum MessageType: UInt64, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case paymentOpen = 1
    case paymentUpdate = 2
    case paymentClose = 3
    case paymentAck = 4
    case htlcPropose = 5
    case htlcFulfill = 6
    case htlcCancel = 7
    case channelAnnounce = 8
    case negotiatePropose = 9
    case negotiateCounter = 10
    case negotiateAccept = 11
    case negotiateReject = 12
    case error = 15

    /// The wire name used in Specs/messages.md and the vectors.
    public var name: String {
        switch self {
        case .paymentOpen: "PAYMENT_OPEN"
        case .paymentUpdate: "PAYMENT_UPDATE"
        case .paymentClose: "PAYMENT_CLOSE"
        case .paymentAck: "PAYMENT_ACK"
        case .htlcPropose: "HTLC_PROPOSE"
        case .htlcFulfill: "HTLC_FULFILL"
        case .htlcCancel: "HTLC_CANCEL"
        case .channelAnnounce: "CHANNEL_ANNOUNCE"
        case .negotiatePropose: "NEGOTIATE_PROPOSE"
        case .negotiateCounter: "NEGOTIATE_COUNTER"
        case .negotiateAccept: "NEGOTIATE_ACCEPT"
        case .negotiateReject: "NEGOTIATE_REJECT"
        case .error: "ERROR"
        }
    }

    public var description: String { "\(rawValue) \(name)" }
}

/// What every typed message provides: its type id, a strict decoder from the `data` map and a
/// canonical encoder back to it.
public protocol PaymeshMessage: Sendable, Hashable {
    static var messageType: MessageType { get }
    /// Decodes and validates the `data` map; unknown keys are ignored.
    init(fields: [MsgpackPair]) throws(MessageError)
    /// The canonical `data` map: keys in the order of Specs/messages.md, absent optionals omitted.
    func encode() -> MsgpackValue
}
