import PaymeshChannels
import PaymeshCrypto
import PaymeshGossip
import PaymeshMessages
import PaymeshNode

/// The web view's JSON (Specs/webview.md): the snapshot and the live events. Atomic amounts are
/// decimal strings; next to each, `…Text` is the same amount for people (`1,234.5 USDC`,
/// `Amount.formatted`) when the asset is known. Events reuse the console's notification fields.
public enum WebViewJSON {
    /// The snapshot's shape version (`version`); a change that drops or renames a field bumps it.
    public static let version: Int64 = 1

    /// `(event name, data)` for one node event: the console's `{type, …}` fields, the asset and
    /// the `…Text` of every amount field, and `record` when the event is a payment.
    static func event(_ event: NodeEvent, asset: Asset?, record: PaymentRecord?) -> (String, JSONValue) {
        let (type, fields) = ConsoleEvents.typeAndFields(event)
        var o = fields
        o["type"] = .string(type)
        if let asset {
            o["asset"] = .string(asset.id)
            o["decimals"] = JSONValue(asset.decimals)
            for key in amountFields {
                if let text = o[key]?.stringValue, let value = UInt128(text) { o[key + "Text"] = .string(Amount(value).formatted(asset)) }
            }
        }
        if let record { o["record"] = json(record) }
        return (type, .object(o))
    }

    /// The console event fields that hold atomic amounts.
    static let amountFields = ["cumulative", "increment", "amount", "fees", "fee", "unpaid", "payeeAmount", "refund"]

    /// `amount` as a decimal string plus `…Text` for people (or only the string when the asset is unknown).
    static func amount(_ key: String, _ value: UInt128?, _ asset: Asset?) -> [String: JSONValue] {
        guard let value else { return [key: .null, key + "Text": .null] }
        return [key: .string(String(value)), key + "Text": asset.map { .string(Amount(value).formatted($0)) } ?? .null]
    }

    static func json(_ r: PaymentRecord) -> JSONValue {
        var o: [String: JSONValue] = [
            "seq": JSONValue(r.seq), "atMs": JSONValue(r.atUnixMillis), "kind": .string(r.kind.rawValue),
            "channel": JSONValue(r.channel?.description), "nonce": r.nonce.map { JSONValue($0) } ?? .null,
            "asset": JSONValue(r.asset?.id), "decimals": r.asset.map { JSONValue($0.decimals) } ?? .null,
            "paymentHash": JSONValue(r.paymentHash?.description), "code": r.code.map { JSONValue($0.rawValue) } ?? .null,
        ]
        o.merge(amount("amount", r.amount, r.asset)) { a, _ in a }
        o.merge(amount("cumulative", r.cumulative, r.asset)) { a, _ in a }
        return .object(o)
    }

    static func snapshot(info: NodeMethods.Info, peers: PeerSnapshot, gossip: GossipStatus?, channels: [ChannelView],
                         graphNodes: [NetworkGraph.Node], graphChannels: [NetworkGraph.ChannelInfo], payments: [PaymentRecord],
                         paymentsTotal: UInt64, htlcs: [HTLCEntry], assets: [ChannelID: Asset], feed: WebViewFeed.Counters,
                         now: UInt64) -> JSONValue {
        let scores = Dictionary((gossip?.peers ?? []).map { ($0.id, $0.score) }, uniquingKeysWith: { a, _ in a })
        let alias = graphNodes.first { $0.id == info.id }?.announcement.alias
        let node: JSONValue = ["id": .string(info.id.description), "alias": JSONValue(alias), "version": .string(info.version),
                               "listen": .array(info.listen.map { .string($0.description) }), "now": JSONValue(now),
                               "uptimeMs": JSONValue(Int64(info.started.duration(to: info.clock.now).milliseconds)),
                               "gossip": .bool(gossip != nil)]
        let peerList: [JSONValue] = peers.peers.map { p in
            ["id": .string(p.id.description), "state": .string(p.state), "direction": JSONValue(p.direction?.rawValue),
             "remote": JSONValue(p.remoteAddress), "rttMs": ConsoleParams.milliseconds(p.rtt),
             "gossipScore": scores[p.id].map { JSONValue.double($0) } ?? .null]
        }
        let channelList: [JSONValue] = channels.map { v in
            let asset = v.snapshot.terms.asset
            return PaymentsJSON.merging(PaymentsJSON.channelJSON(v), [
                "depositText": .string(Amount(v.snapshot.terms.deposit).formatted(asset)),
                "paidText": .string(Amount(v.snapshot.paidAmount).formatted(asset)),
                "availableText": .string(Amount(v.snapshot.available).formatted(asset)),
            ])
        }
        let nodes: [JSONValue] = graphNodes.map { n in
            ["id": .string(n.id.description), "alias": .string(n.announcement.alias),
             "addresses": .array(n.announcement.addresses.map { .string($0) }), "timestamp": JSONValue(n.timestamp)]
        }
        let edges: [JSONValue] = graphChannels.map { c in
            ["id": .string(c.id.description), "peerA": .string(c.peerA.description), "peerB": .string(c.peerB.description),
             "capacity": .string(c.capacity.description), "capacityText": .string(c.capacity.formatted(c.asset)),
             "asset": .string(c.asset.id), "decimals": JSONValue(c.asset.decimals)]
        }
        let htlcList: [JSONValue] = htlcs.map { e in
            let asset = assets[e.channelID]
            var fields: [String: JSONValue] = ["expiresInMs": JSONValue(Int64(clamping: Int128(e.expiry) - Int128(now)))]
            fields.merge(amount("amount", e.amount, asset)) { a, _ in a }
            fields["asset"] = JSONValue(asset?.id)
            fields["decimals"] = asset.map { JSONValue($0.decimals) } ?? .null
            return PaymentsJSON.merging(PaymentsMethods.htlcJSON(e), fields)
        }
        return [
            "version": JSONValue(version), "node": node, "peers": .array(peerList), "channels": .array(channelList),
            "graph": ["nodes": .array(nodes), "channels": .array(edges)],
            "payments": .array(payments.map(json)), "paymentsTotal": JSONValue(paymentsTotal), "htlcs": .array(htlcList),
            "feed": ["clients": JSONValue(feed.clients), "maxClients": JSONValue(WebViewFeed.maxClients),
                     "droppedClients": JSONValue(feed.droppedClients), "droppedMessages": JSONValue(feed.droppedMessages),
                     "missedEvents": JSONValue(feed.missedEvents)],
        ]
    }
}
