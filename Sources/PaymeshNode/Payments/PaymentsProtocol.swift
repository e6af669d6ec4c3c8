public import PaymeshMux

/// The payments stream protocol (Specs/streams.md, Specs/messages.md): its id, and the feature a
/// node that serves it advertises in its identity proof (Specs/transport.md §4).
public enum PaymentsProtocol {
    /// `/paymesh/payments/1`: the length-prefixed message stream of messages.md.
    public static let id = try! StreamProtocolID("/paymesh/payments/1")
    public static let feature = "payments/1"
}
