public import PaymeshCrypto
public import PaymeshMessages

/// What became of an HTLC this node offered as the origin of a payment (`route_outcomes`, schema
/// v8, Specs/storage.md "Route outcomes"): the preimage when the route fulfilled it, else the code
/// it was cancelled with (and, when the origin could read the failure onion, the failing hop).
/// Written by `saveHTLCs` in the same request as the channel state that drops the HTLC, so a payer
/// killed at any instant finds either the HTLC still pending or its outcome; removed once the
/// payment journal has taken it (`deleteRouteOutcomes`).
public struct RouteOutcome: Sendable, Hashable {
    public var paymentHash: Hash32
    /// Set exactly when the payment succeeded.
    public var preimage: Hash32?
    /// Set exactly when it failed: the attributed code, or the cancel's reason when unattributed.
    public var code: PaymeshErrorCode?
    /// The failing hop (0 = first hop) and its node, when a failure onion attributed it.
    public var hopIndex: Int?
    public var node: EthereumAddress?
    /// When the origin learned it (unix ms, the node's clock).
    public var atMillis: UInt64

    public static func succeeded(_ hash: Hash32, preimage: Hash32, at: UInt64) -> Self {
        Self(paymentHash: hash, preimage: preimage, code: nil, hopIndex: nil, node: nil, atMillis: at)
    }

    public static func failed(_ hash: Hash32, code: PaymeshErrorCode, hopIndex: Int?, node: EthereumAddress?, at: UInt64) -> Self {
        Self(paymentHash: hash, preimage: nil, code: code, hopIndex: hopIndex, node: node, atMillis: at)
    }
}
