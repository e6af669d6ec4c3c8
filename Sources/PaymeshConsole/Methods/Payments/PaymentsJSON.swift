import PaymeshChannels
import PaymeshMessages
import PaymeshNode

/// Payments values as console JSON (Specs/console.md §8).
enum PaymentsJSON {
    static func channelJSON(_ v: ChannelView) -> JSONValue {
        let s = v.snapshot, t = s.terms
        var close: JSONValue = .null
        if let c = s.close {
            close = ["cooperative": .bool(c.message.cooperative), "initiatedLocally": .bool(c.initiatedLocally), "completed": .bool(c.completed),
                     "finalNonce": JSONValue(c.finalNonce), "finalAmount": .string(String(c.finalAmount)),
                     "challengeDeadline": c.challengeDeadline.map { JSONValue($0) } ?? .null, "settlement": JSONValue(c.settlementID)]
        }
        return [
            "channel": .string(t.channelID.description), "role": .string(s.role.rawValue), "peer": .string(v.peer.description),
            "state": .string(s.state.rawValue), "asset": .string(t.asset.id), "decimals": JSONValue(t.asset.decimals),
            "deposit": .string(String(t.deposit)), "paid": .string(String(s.paidAmount)), "available": .string(String(s.available)),
            "nonce": JSONValue(s.latestVoucher?.nonce ?? 0), "ackedNonce": JSONValue(v.ackedNonce), "ackedAmount": .string(String(v.ackedAmount)),
            "unacknowledged": JSONValue(v.unacknowledged), "challengePeriod": JSONValue(t.open.challengePeriodSeconds),
            "settlement": .string(t.open.settlement), "offChain": .bool(t.open.settlement == LedgerRules.localLedgerID), "chainId": JSONValue(t.open.chainID),
            "receipts": JSONValue(s.receiptSeq), "close": close,
        ]
    }

    /// `asset` and `decimals` of a channel's asset, added next to its amounts so that a reader
    /// (and `paymesh ctl` for people) can show them as decimal values.
    static func assetFields(_ asset: Asset?) -> [String: JSONValue] {
        guard let asset else { return [:] }
        return ["asset": .string(asset.id), "decimals": JSONValue(asset.decimals)]
    }

    static func merging(_ value: JSONValue, _ fields: [String: JSONValue]) -> JSONValue {
        guard case .object(var o) = value else { return value }
        o.merge(fields) { _, new in new }
        return .object(o)
    }

    static func payJSON(_ o: PayOutcome, assets: [ChannelID: Asset] = [:]) -> JSONValue {
        func ms(_ nanos: UInt64) -> JSONValue { .double((Double(nanos) / 1_000).rounded() / 1_000) }
        func percentile(_ p: Double) -> JSONValue {
            guard !o.latenciesNanos.isEmpty else { return .null }
            let i = min(o.latenciesNanos.count - 1, Int((Double(o.latenciesNanos.count) * p).rounded(.up)) - 1)
            return ms(o.latenciesNanos[max(0, i)])
        }
        let seconds = Double(o.elapsedNanos) / 1e9
        let first = o.channels.first
        var error: JSONValue = .null
        if let e = o.error { error = ["code": .int(Int64(e.consoleCode)), "name": .string(e.name), "message": .string(e.detail)] }
        return merging([
            "complete": .bool(o.error == nil), "signed": JSONValue(o.signed), "burst": JSONValue(o.burst),
            "ackedNonce": JSONValue(first?.ackedNonce ?? 0), "ackedAmount": .string(String(first?.ackedAmount ?? 0)),
            "channels": .array(o.channels.map { merging(["channel": .string($0.channel.description), "nonce": JSONValue($0.latestNonce), "paid": .string(String($0.paid)),
                                                          "ackedNonce": JSONValue($0.ackedNonce), "ackedAmount": .string(String($0.ackedAmount))],
                                                         assetFields(assets[$0.channel])) }),
            "elapsedMs": ms(o.elapsedNanos), "paymentsPerSecond": .double(seconds > 0 ? (Double(o.signed) / seconds).rounded() : 0),
            "latencyMs": ["p50": percentile(0.5), "p99": percentile(0.99), "max": o.latenciesNanos.last.map(ms) ?? .null,
                          "samples": JSONValue(o.latenciesNanos.count)],
            "error": error,
        ], assetFields(first.flatMap { assets[$0.channel] }))
    }

    /// A `pay.progress` notification's params (Specs/console.md §8, "Progress and cancellation").
    static func progressJSON(_ p: PayProgress, asset: Asset?) -> JSONValue {
        merging(["burst": JSONValue(p.burst), "count": JSONValue(p.count), "signed": JSONValue(p.signed), "acked": JSONValue(p.acked),
                 "ackedAmount": .string(String(p.ackedAmount)), "elapsedMs": .int(Int64(clamping: p.elapsedNanos / 1_000_000)),
                 "done": .bool(p.done)], assetFields(asset))
    }

    static func streamJSON(_ v: StreamView, asset: Asset? = nil) -> JSONValue {
        merging(["stream": .string(v.id), "channel": .string(v.channel.description), "unit": .string(v.unit.rawValue), "price": .string(String(v.price)),
         "cap": .string(String(v.cap)), "paid": .string(String(v.paid)), "paidUnits": JSONValue(v.paidUnits), "status": .string(v.status),
         "vouchers": JSONValue(v.vouchers), "nonce": JSONValue(v.lastNonce)], assetFields(asset))
    }
}
