import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshNode

/// `htlc.info`, `htlc.list` and `pay.route` (Specs/console.md §8): payments over an explicit
/// route of channels, locked in HTLCs (Specs/channels.md §12).
extension PaymentsMethods {
    /// At most this many hops in a route (Specs/onion.md §7).
    static let maxRouteHops = 20

    var htlc: [ConsoleMethod] {
        let s = payments
        return [
            ConsoleMethod(
                "htlc.info", summary: "This node's onion key (what routes name it by) and its forwarding terms.",
                result: "{nodeKey, feeBase, feePpm, expiryDeltaMs, minFinalExpiryMs, maxInFlight}"
            ) { _ in
                let p = s.htlcPolicy
                return ["nodeKey": .string(s.nodeKey.compressedRepresentation.hexString), "feeBase": .string(String(p.feeBase)),
                        "feePpm": JSONValue(p.feePPM), "expiryDeltaMs": JSONValue(p.expiryDeltaMillis),
                        "minFinalExpiryMs": JSONValue(p.minFinalExpiryMillis), "maxInFlight": JSONValue(p.maxInFlight)]
            },
            ConsoleMethod(
                "htlc.list", summary: "Every HTLC this node holds, with its channel, state and linked HTLC.",
                result: "{htlcs: [{channel, id, side, state, paymentHash, amount, expiry, reason, link}]}"
            ) { _ in
                let entries = await s.htlcEntries().sorted {
                    $0.channelID == $1.channelID ? $0.htlcID.bytes.lexicographicallyPrecedes($1.htlcID.bytes)
                        : $0.channelID.bytes.lexicographicallyPrecedes($1.channelID.bytes)
                }
                return ["htlcs": .array(entries.map(Self.htlcJSON))]
            },
            ConsoleMethod(
                "pay.route", summary: "Pays `amount` to the last hop of an explicit route; returns once the payment succeeded or failed.",
                params: [ConsoleParam("hops", .array, "first hop first: [{key, channel, fee_base, fee_ppm, expiry_delta_ms}] (key: the hop's nodeKey from htlc.info; channel: the channel reaching it; fees: the hop's terms, ignored for the last hop)"),
                         ConsoleParam("amount", .string, "what the last hop receives: atomic units or a decimal value of the first channel's asset"),
                         ConsoleParam("timeout_ms", .integer, required: false, "default 60000")],
                result: "{status: succeeded|failed, paymentHash, preimage, amount, fees} or {status: failed, paymentHash, hop, node, code}"
            ) { call in
                let items = call.params["hops"]?.arrayValue ?? []
                guard (1...Self.maxRouteHops).contains(items.count) else { throw NodeError.invalidParams("hops must list 1–\(Self.maxRouteHops) hops") }
                var route: [RouteHop] = []
                for (i, item) in items.enumerated() { route.append(try Self.routeHop(item, index: i)) }
                let amount = try PaymentParams.amountParam(call, "amount", asset: await PaymentParams.channelAsset(route[0].channelID, s))
                let timeout = UInt64(try PaymentParams.nonNegative(call, "timeout_ms") ?? 60_000)
                switch try await s.payRoute(route, amount: amount, timeoutMillis: timeout) {
                case .succeeded(let hash, let preimage, let amount, let fees):
                    return ["status": "succeeded", "paymentHash": .string(hash.description), "preimage": .string(preimage.description),
                            "amount": .string(String(amount)), "fees": .string(String(fees))]
                case .failed(let hash, let hop, let node, let code):
                    return ["status": "failed", "paymentHash": .string(hash.description), "hop": JSONValue(hop),
                            "node": .string(node.description), "code": JSONValue(Int(code.rawValue))]
                }
            },
        ]
    }

    static func routeHop(_ item: JSONValue, index i: Int) throws(NodeError) -> RouteHop {
        guard let o = item.objectValue, let keyText = o["key"]?.stringValue, let channelText = o["channel"]?.stringValue else {
            throw .invalidParams("hops[\(i)] needs key and channel")
        }
        guard let bytes = [UInt8](hex: keyText), let key = try? Secp256k1.PublicKey(serialized: bytes) else {
            throw .invalidParams("hops[\(i)].key is not a secp256k1 public key (33 or 65 bytes in hex)")
        }
        let channel = try PaymentParams.channelID(channelText)
        var feeBase: UInt128 = 0
        if let text = o["fee_base"]?.stringValue ?? o["fee_base"]?.intValue.map({ String($0) }) {
            guard let v = UInt128(text) else { throw .invalidParams("hops[\(i)].fee_base must be atomic units") }
            feeBase = v
        }
        let ppm = o["fee_ppm"]?.intValue ?? 0
        guard (0...1_000_000).contains(ppm) else { throw .invalidParams("hops[\(i)].fee_ppm must be 0–1000000") }
        let delta = o["expiry_delta_ms"]?.intValue ?? Int64(HTLCPolicy.defaultExpiryDeltaMillis)
        guard delta >= 0 else { throw .invalidParams("hops[\(i)].expiry_delta_ms must not be negative") }
        return RouteHop(nodeKey: key, channelID: channel, feeBase: feeBase, feePPM: UInt64(ppm), expiryDeltaMillis: UInt64(delta))
    }

    static func htlcJSON(_ e: HTLCEntry) -> JSONValue {
        ["channel": .string(e.channelID.description), "id": .string(e.htlcID.bytes.hexString), "side": .string("\(e.side)"),
         "state": .string("\(e.state)"), "paymentHash": .string(e.paymentHash.description), "amount": .string(String(e.amount)),
         "expiry": JSONValue(e.expiry), "reason": e.reason.map { JSONValue(Int($0.rawValue)) } ?? .null,
         "link": e.link.map { .string($0.description) } ?? .null]
    }
}
