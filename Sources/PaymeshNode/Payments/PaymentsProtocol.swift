public import PaymeshMux

/// The payments stream protocols (Specs/streams.md, Specs/messages.md): their ids, and the features
/// a node that serves them advertises in its identity proof (Specs/transport.md §4).
public enum PaymentsProtocol {
    /// `/paymesh/payments/1`: the length-prefixed message stream of messages.md.
    public static let id = try! StreamProtocolID("/paymesh/payments/1")
    public static let feature = "payments/1"
    /// `/paymesh/payments/2`: the same stream, where PAYMENT_ACK may carry `acks` (coalesced
    /// acknowledgements, Specs/messages.md §4.4.1).
    public static let idV2 = try! StreamProtocolID("/paymesh/payments/2")
    public static let featureV2 = "payments/2"
    /// `/paymesh/payments/3`: version 2 plus HTLCs (Specs/streams.md, Specs/channels.md §12).
    public static let idV3 = try! StreamProtocolID("/paymesh/payments/3")
    public static let featureV3 = "payments/3"

    /// Every version this node serves, with its feature.
    static let versions: [(id: StreamProtocolID, feature: String)] = [(id, feature), (idV2, featureV2), (idV3, featureV3)]

    /// The version to open to a peer whose identity proof lists `features` (Specs/streams.md).
    public static func id(forPeerFeatures features: [String]) -> StreamProtocolID {
        features.contains(featureV3) ? idV3 : features.contains(featureV2) ? idV2 : id
    }

    /// Whether acknowledgements may be coalesced on a stream of `protocolID`.
    public static func coalescesAcks(_ protocolID: StreamProtocolID) -> Bool { protocolID == idV2 || protocolID == idV3 }
}
