/// Something subscribers hear about (console `subscribe`): `type` is dotted
/// (`peer.up`, `discovery.found`, later `payment.*`), `data` its fields (Specs/console.md §6).
public struct NodeEvent: Hashable, Sendable {
    public let type: String
    public let data: [String: JSONValue]

    public init(_ type: String, _ data: [String: JSONValue] = [:]) {
        self.type = type
        self.data = data
    }

    /// The topic a subscriber filters on: the part before the first dot.
    public var topic: String { String(type.prefix { $0 != "." }) }

    public var json: JSONValue {
        var o = data
        o["type"] = .string(type)
        return .object(o)
    }
}
