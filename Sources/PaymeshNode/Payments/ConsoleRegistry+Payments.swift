import Foundation
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshStore

/// Console methods of the payments layer (Specs/console.md §8). Money is atomic units as decimal
/// strings, never floating point; refusals carry their Paymesh code (errors.md).
extension ConsoleRegistry {
    func registerPaymentMethods(_ s: PaymentsService) {
        register(ConsoleMethod(
            "channel.open", summary: "Opens a payment channel to a connected peer (locks the deposit on the local ledger) and waits for the payee's answer.",
            params: [ConsoleParam("peer", .string, "payee peer id"), ConsoleParam("asset", .string, "asset id, e.g. USDC"),
                     ConsoleParam("decimals", .integer, "asset decimals 0–36 (USDC 6, ETH 18)"),
                     ConsoleParam("deposit", .string, "deposit in atomic units (decimal string)"),
                     ConsoleParam("challenge_period", .integer, required: false, "seconds, default 3600"),
                     ConsoleParam("chain_id", .integer, required: false, "EIP-712 chain id, default 0"),
                     ConsoleParam("timeout_ms", .integer, required: false, "default 15000")],
            result: "channel: {channel, role, peer, state, asset, decimals, deposit, paid, available, nonce, ackedNonce, ackedAmount, …}"
        ) { call in
            let peer = try peerID(call, "peer")
            let asset = try assetParam(call)
            let request = OpenRequest(peer: peer, asset: asset, deposit: try amountParam(call, "deposit"),
                                      challengePeriodSeconds: UInt64(try nonNegative(call, "challenge_period") ?? 3_600),
                                      chainID: UInt64(try nonNegative(call, "chain_id") ?? 0),
                                      timeoutMillis: UInt64(try nonNegative(call, "timeout_ms") ?? 15_000))
            return channelJSON(try await s.openChannel(request))
        })

        register(ConsoleMethod("channel.list", summary: "Every channel of this node.", result: "{channels: [channel]}") { _ in
            ["channels": .array(await s.views().map(channelJSON))]
        })

        register(ConsoleMethod(
            "channel.get", summary: "One channel.", params: [ConsoleParam("channel", .string, "channel id (0x + 64 hex)")], result: "channel"
        ) { call in
            let id = try channelParam(call)
            guard let v = await s.view(id) else { throw PaymentsService.channelNotFound(id) }
            return channelJSON(v)
        })

        register(ConsoleMethod(
            "channel.close", summary: "Closes a channel: cooperative (both sign, then settle on the local ledger) or unilateral (challenge period).",
            params: [ConsoleParam("channel", .string, "channel id"),
                     ConsoleParam("mode", .string, required: false, "cooperative (default) or unilateral"),
                     ConsoleParam("wait", .boolean, required: false, "cooperative: wait until SETTLED (default true)"),
                     ConsoleParam("timeout_ms", .integer, required: false, "default 15000")],
            result: "channel"
        ) { call in
            let id = try channelParam(call)
            let mode = call.string("mode") ?? "cooperative"
            guard mode == "cooperative" || mode == "unilateral" else { throw NodeError.invalidParams("mode is cooperative or unilateral") }
            return channelJSON(try await s.closeChannel(id, cooperative: mode == "cooperative", wait: call.bool("wait") ?? true,
                                                         timeoutMillis: UInt64(try nonNegative(call, "timeout_ms") ?? 15_000)))
        })

        register(ConsoleMethod(
            "channel.history", summary: "The channel's append-only voucher log (payer: signed; payee: accepted), in nonce order.",
            params: [ConsoleParam("channel", .string, "channel id"), ConsoleParam("after", .integer, required: false, "nonce to start after (default 0)"),
                     ConsoleParam("limit", .integer, required: false, "at most this many, default 1000, max 100000")],
            result: "{vouchers: [{nonce, amount, taskId}]}"
        ) { call in
            let limit = min(100_000, max(1, Int(try nonNegative(call, "limit") ?? 1_000)))
            let rows = try await s.history(try channelParam(call), after: UInt64(try nonNegative(call, "after") ?? 0), limit: limit)
            return ["vouchers": .array(rows.map { ["nonce": JSONValue($0.nonce), "amount": .string($0.amount.description), "taskId": JSONValue($0.taskID)] })]
        })

        register(ConsoleMethod(
            "pay", summary: "Pays `amount` more on a channel (a signed cumulative voucher); with `count`, that many payments as fast as possible (pipelined) or at `rate` per second.",
            params: [ConsoleParam("channel", .string, required: false, "channel id (or `channels`)"),
                     ConsoleParam("channels", .array, required: false, "several channel ids, paid round-robin"),
                     ConsoleParam("amount", .string, "increment per payment, atomic units (decimal string)"),
                     ConsoleParam("task_id", .string, required: false, "request correlation id carried in the voucher"),
                     ConsoleParam("count", .integer, required: false, "number of payments, default 1"),
                     ConsoleParam("rate", .integer, required: false, "payments per second (default: as fast as possible)"),
                     ConsoleParam("timeout_ms", .integer, required: false, "default 60000")],
            result: "{complete, signed, ackedNonce, ackedAmount, channels: [{channel, nonce, paid, ackedNonce, ackedAmount}], elapsedMs, paymentsPerSecond, latencyMs: {p50, p99, max, samples}, error}"
        ) { call in
            var channels: [ChannelID] = []
            if let one = call.string("channel") { channels.append(try channelID(one)) }
            for item in call.params["channels"]?.arrayValue ?? [] {
                guard let text = item.stringValue else { throw NodeError.invalidParams("channels must be channel ids") }
                channels.append(try channelID(text))
            }
            guard !channels.isEmpty else { throw NodeError.invalidParams("pay needs channel or channels") }
            let count = Int(try nonNegative(call, "count") ?? 1)
            guard count >= 1, count <= 100_000_000 else { throw NodeError.invalidParams("count must be 1…100000000") }
            let rate = try nonNegative(call, "rate").map { Int($0) }
            if let task = call.string("task_id"), task.utf8.isEmpty || task.utf8.count > 128 { throw NodeError.invalidParams("task_id must be 1–128 bytes") }
            let request = PayRequest(channels: channels, amount: try amountParam(call, "amount"), taskID: call.string("task_id"), count: count,
                                     ratePerSecond: rate, timeoutMillis: UInt64(try nonNegative(call, "timeout_ms") ?? 60_000))
            return payJSON(try await s.pay(request))
        })

        register(ConsoleMethod(
            "stream.start", summary: "Starts a metered payment stream on a payer channel: per call, token, byte (pay on stream.usage) or second (paid every 250 ms).",
            params: [ConsoleParam("channel", .string, "channel id"), ConsoleParam("unit", .string, "call, token, second or byte"),
                     ConsoleParam("price", .string, "atomic units per unit (decimal string)"),
                     ConsoleParam("cap", .string, "the most this stream may pay (decimal string)")],
            result: "stream: {stream, channel, unit, price, cap, paid, paidUnits, status, vouchers, nonce}"
        ) { call in
            guard let unit = UsageUnit(rawValue: try call.requireString("unit")) else { throw NodeError.invalidParams("unit is call, token, second or byte") }
            return streamJSON(try await s.startStream(channel: try channelParam(call), unit: unit, price: try amountParam(call, "price"),
                                                      cap: try amountParam(call, "cap")))
        })

        register(ConsoleMethod(
            "stream.usage", summary: "Reports usage on a stream: pays units × price and waits for the acknowledgement (pauses at the cap or the channel balance).",
            params: [ConsoleParam("stream", .string, "stream id"), ConsoleParam("units", .integer, "units used")],
            result: "stream"
        ) { call in
            guard let units = call.int("units"), units > 0 else { throw NodeError.invalidParams("units must be a positive integer") }
            return streamJSON(try await s.streamUsage(try call.requireString("stream"), units: UInt64(units)))
        })

        register(ConsoleMethod(
            "stream.stop", summary: "Stops a stream (a per-second stream bills its last interval first).",
            params: [ConsoleParam("stream", .string, "stream id")], result: "stream"
        ) { call in
            streamJSON(try await s.stopStream(try call.requireString("stream")))
        })

        register(ConsoleMethod(
            "balance", summary: "Balances on the local ledger (off-chain): this node's wallets, every account in its books, channel escrows.",
            params: [ConsoleParam("asset", .string, required: false, "only this asset id")],
            result: "{backend: \"local-ledger\", offChain: true, owner, wallets: [{asset, amount}], accounts: [{owner, asset, amount}], escrows: [{channel, asset, amount}]}"
        ) { call in
            let only = call.string("asset")
            let me = await s.nodeAddress
            let all = try await s.balances().filter { only == nil || $0.assetID == only }
            var escrows: [JSONValue] = []
            for v in await s.views() where only == nil || v.snapshot.terms.asset.id == only {
                if let e = await s.escrow(v.snapshot.channelID), e > 0 {
                    escrows.append(["channel": .string(v.snapshot.channelID.description), "asset": .string(v.snapshot.terms.asset.id), "amount": .string(String(e))])
                }
            }
            return [
                "backend": .string(LedgerRules.localLedgerID), "offChain": true, "owner": .string(me.description),
                "wallets": .array(all.filter { $0.owner == me }.map { ["asset": .string($0.assetID), "amount": .string($0.amount.description)] }),
                "accounts": .array(all.map { ["owner": .string($0.owner.description), "asset": .string($0.assetID), "amount": .string($0.amount.description)] }),
                "escrows": .array(escrows),
            ]
        })

        register(ConsoleMethod(
            "ledger.fund", summary: "Credits off-chain funds to this node's wallet on its local ledger (a faucet for tests and meshes).",
            params: [ConsoleParam("asset", .string, "asset id"), ConsoleParam("decimals", .integer, "asset decimals 0–36"),
                     ConsoleParam("amount", .string, "atomic units (decimal string)")],
            result: "{asset, amount, balance, offChain: true}"
        ) { call in
            let asset = try assetParam(call)
            try await s.fund(asset: asset, amount: try amountParam(call, "amount"))
            let me = await s.nodeAddress
            let balance = try await s.balances().first { $0.owner == me && $0.assetID == asset.id }?.amount.description ?? "0"
            return ["asset": .string(asset.id), "amount": .string(try call.requireString("amount")), "balance": .string(balance), "offChain": true]
        })

        register(ConsoleMethod(
            "receipts", summary: "The payee's hash-chained signed receipts of a channel, as the JSON `paymesh receipts verify` checks.",
            params: [ConsoleParam("channel", .string, "channel id")],
            result: "{format: \"paymesh-receipts/1\", channel_id, payer, payee, asset, decimals, chain_id, verifying_contract, receipts: […]}"
        ) { call in
            let bundle = try await s.receiptBundle(try channelParam(call))
            guard let data = try? bundle.jsonData() else { throw NodeError.internalError("receipt bundle does not encode") }
            return try JSONValue.parse(Array(data))
        })

        register(ConsoleMethod("policy.get", summary: "The spending policy and what has been spent under it, per asset.",
                               result: "{policy: {max_per_payment, max_total_per_peer, max_total, max_payments_per_minute, allow, deny}, spent: [{asset, total}]}") { _ in
            let (policy, guards) = await s.spendingPolicy()
            return ["policy": PolicyJSON.json(policy),
                    "spent": .array(guards.keys.sorted().map { ["asset": .string($0), "total": .string(String(guards[$0]!.spentTotal))] })]
        })

        register(ConsoleMethod(
            "policy.set", summary: "Changes spending limits (checked before anything is signed); a key set to null removes that limit.",
            params: PolicyJSON.keys.map { ConsoleParam($0, .any, required: false, $0.hasPrefix("max_payments") ? "integer or null"
                                                        : ["allow", "deny"].contains($0) ? "array of peer ids or null" : "decimal string or null") },
            result: "{policy}"
        ) { call in
            let (current, _) = await s.spendingPolicy()
            let updated = try PolicyJSON.apply(call.params, to: current)
            try await s.setSpendingPolicy(updated)
            return ["policy": PolicyJSON.json(updated)]
        })
    }
}

// MARK: Parameters

private func channelID(_ text: String) throws(NodeError) -> ChannelID {
    guard let id = try? ChannelID(hex: text) else { throw .invalidParams("not a channel id (0x + 64 hex digits): \(text)") }
    return id
}

private func channelParam(_ call: ConsoleCall) throws(NodeError) -> ChannelID { try channelID(try call.requireString("channel")) }

private func amountParam(_ call: ConsoleCall, _ name: String) throws(NodeError) -> UInt128 {
    let text = try call.requireString(name)
    guard let a = try? Amount(decimal: text) else { throw .invalidParams("\(name) must be a decimal string of atomic units (no sign, no fraction): \(text)") }
    return a.atomicUnits
}

private func nonNegative(_ call: ConsoleCall, _ name: String) throws(NodeError) -> Int64? {
    guard let v = call.int(name) else { return nil }
    guard v >= 0 else { throw .invalidParams("\(name) must not be negative") }
    return v
}

private func assetParam(_ call: ConsoleCall) throws(NodeError) -> Asset {
    let id = try call.requireString("asset"), decimals = try call.requireInt("decimals")
    guard (0...36).contains(decimals), let asset = try? Asset(id: id, decimals: UInt8(decimals)) else {
        throw .invalidParams("asset must be 1–32 bytes and decimals 0–36")
    }
    return asset
}

// MARK: Results

func channelJSON(_ v: ChannelView) -> JSONValue {
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

func payJSON(_ o: PayOutcome) -> JSONValue {
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
    return [
        "complete": .bool(o.error == nil), "signed": JSONValue(o.signed),
        "ackedNonce": JSONValue(first?.ackedNonce ?? 0), "ackedAmount": .string(String(first?.ackedAmount ?? 0)),
        "channels": .array(o.channels.map { ["channel": .string($0.channel.description), "nonce": JSONValue($0.latestNonce), "paid": .string(String($0.paid)),
                                              "ackedNonce": JSONValue($0.ackedNonce), "ackedAmount": .string(String($0.ackedAmount))] }),
        "elapsedMs": ms(o.elapsedNanos), "paymentsPerSecond": .double(seconds > 0 ? (Double(o.signed) / seconds).rounded() : 0),
        "latencyMs": ["p50": percentile(0.5), "p99": percentile(0.99), "max": o.latenciesNanos.last.map(ms) ?? .null,
                      "samples": JSONValue(o.latenciesNanos.count)],
        "error": error,
    ]
}

func streamJSON(_ v: StreamView) -> JSONValue {
    ["stream": .string(v.id), "channel": .string(v.channel.description), "unit": .string(v.unit.rawValue), "price": .string(String(v.price)),
     "cap": .string(String(v.cap)), "paid": .string(String(v.paid)), "paidUnits": JSONValue(v.paidUnits), "status": .string(v.status),
     "vouchers": JSONValue(v.vouchers), "nonce": JSONValue(v.lastNonce)]
}
