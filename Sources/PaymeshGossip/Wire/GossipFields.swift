import PaymeshMessages
import PaymeshMsgpack

/// A gossip map's failures: an error of `kind` naming where (`context`) and the key.
struct GossipFieldErrors: FieldErrors {
    let context: String
    let kind: GossipError.Kind
    func error(key: String, _ why: String) -> GossipError { GossipError(kind, "\(context).\(key): \(why)") }
}

/// Strict, typed reads from a msgpack map (Specs/gossip.md §3): the messages layer's `FieldMap`
/// with gossip's errors. Unknown keys are ignored, a known key that appears twice, has the wrong
/// type or breaks its limit is an error of `kind`, and a nil value counts as absent.
typealias GossipFields = FieldMap<GossipFieldErrors>

extension FieldMap where Errors == GossipFieldErrors {
    init(_ value: MsgpackValue, _ context: String, kind: GossipError.Kind) throws(GossipError) {
        guard let pairs = value.mapValue else { throw GossipError(kind, "\(context): expected a map") }
        self.init(pairs, errors: GossipFieldErrors(context: context, kind: kind))
    }
}

/// Builds a map in canonical key order (§3.3).
struct GossipFieldWriter {
    private(set) var pairs: [MsgpackPair] = []
    var value: MsgpackValue { .map(pairs) }

    mutating func put(_ key: String, _ value: MsgpackValue) { pairs.append(MsgpackPair(.string(key), value)) }
    mutating func uint(_ key: String, _ v: UInt64) { put(key, .uint(v)) }
    mutating func string(_ key: String, _ v: String) { put(key, .string(v)) }
    mutating func binary(_ key: String, _ v: [UInt8]) { put(key, .binary(v)) }
    mutating func amount(_ key: String, _ v: Amount) { put(key, .string(v.description)) }
    mutating func asset(_ v: Asset) {
        string("asset", v.id)
        uint("decimals", UInt64(v.decimals))
    }
}
