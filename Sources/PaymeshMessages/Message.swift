import PaymeshMsgpack

/// Any one of the 13 Paymesh messages.
public enum Message: Sendable, Hashable {
    case paymentOpen(PaymentOpen)
    case paymentUpdate(PaymentUpdate)
    case paymentClose(PaymentClose)
    case paymentAck(PaymentAck)
    case htlcPropose(HTLCPropose)
    case htlcFulfill(HTLCFulfill)
    case htlcCancel(HTLCCancel)
    case channelAnnounce(ChannelAnnounce)
    case negotiatePropose(NegotiatePropose)
    case negotiateCounter(NegotiateCounter)
    case negotiateAccept(NegotiateAccept)
    case negotiateReject(NegotiateReject)
    case error(ErrorMessage)

    public var type: MessageType {
        switch self {
        case .paymentOpen: .paymentOpen
        case .paymentUpdate: .paymentUpdate
        case .paymentClose: .paymentClose
        case .paymentAck: .paymentAck
        case .htlcPropose: .htlcPropose
        case .htlcFulfill: .htlcFulfill
        case .htlcCancel: .htlcCancel
        case .channelAnnounce: .channelAnnounce
        case .negotiatePropose: .negotiatePropose
        case .negotiateCounter: .negotiateCounter
        case .negotiateAccept: .negotiateAccept
        case .negotiateReject: .negotiateReject
        case .error: .error
        }
    }

    /// Decodes the `data` map of a message of the given type.
    public init(type: MessageType, fields: [MsgpackPair]) throws(MessageError) {
        switch type {
        case .paymentOpen: self = .paymentOpen(try PaymentOpen(fields: fields))
        case .paymentUpdate: self = .paymentUpdate(try PaymentUpdate(fields: fields))
        case .paymentClose: self = .paymentClose(try PaymentClose(fields: fields))
        case .paymentAck: self = .paymentAck(try PaymentAck(fields: fields))
        case .htlcPropose: self = .htlcPropose(try HTLCPropose(fields: fields))
        case .htlcFulfill: self = .htlcFulfill(try HTLCFulfill(fields: fields))
        case .htlcCancel: self = .htlcCancel(try HTLCCancel(fields: fields))
        case .channelAnnounce: self = .channelAnnounce(try ChannelAnnounce(fields: fields))
        case .negotiatePropose: self = .negotiatePropose(try NegotiatePropose(fields: fields))
        case .negotiateCounter: self = .negotiateCounter(try NegotiateCounter(fields: fields))
        case .negotiateAccept: self = .negotiateAccept(try NegotiateAccept(fields: fields))
        case .negotiateReject: self = .negotiateReject(try NegotiateReject(fields: fields))
        case .error: self = .error(try ErrorMessage(fields: fields))
        }
    }

    /// The canonical `data` map.
    public func encodeData() -> MsgpackValue {
        switch self {
        case .paymentOpen(let m): m.encode()
        case .paymentUpdate(let m): m.encode()
        case .paymentClose(let m): m.encode()
        case .paymentAck(let m): m.encode()
        case .htlcPropose(let m): m.encode()
        case .htlcFulfill(let m): m.encode()
        case .htlcCancel(let m): m.encode()
        case .channelAnnounce(let m): m.encode()
        case .negotiatePropose(let m): m.encode()
        case .negotiateCounter(let m): m.encode()
        case .negotiateAccept(let m): m.encode()
        case .negotiateReject(let m): m.encode()
        case .error(let m): m.encode()
        }
    }
}
