import PaymeshChannels
import PaymeshMessages
import PaymeshNode

/// `pay` (Specs/console.md §8): signed cumulative vouchers, pipelined or paced.
extension PaymentsMethods {
    var pay: [ConsoleMethod] {
        let s = payments, routed = routed
        return [
            ConsoleMethod(
                "pay", summary: "Pays `amount` more on a channel (a signed cumulative voucher); with `count`, that many payments as fast as possible (pipelined) or at `rate` per second. With `request` (an invoice) or `to` (a node id): a routed payment over HTLCs (console.md §12).",
                params: [ConsoleParam("channel", .string, required: false, "channel id (or `channels`)"),
                         ConsoleParam("channels", .array, required: false, "several channel ids, paid round-robin"),
                         ConsoleParam("amount", .string, required: false, "increment per payment: atomic units (1000) or a decimal value of the channel's asset (0.001, 0.001USDC); routed: what the payee receives"),
                         ConsoleParam("task_id", .string, required: false, "request correlation id carried in the voucher"),
                         ConsoleParam("count", .integer, required: false, "number of payments, default 1"),
                         ConsoleParam("rate", .integer, required: false, "payments per second (default: as fast as possible)"),
                         ConsoleParam("timeout_ms", .integer, required: false, "default 60000"),
                         ConsoleParam("progress", .boolean, required: false, "send pay.progress notifications on this connection while the burst runs"),
                         ConsoleParam("request", .string, required: false, "routed: a pminv1 invoice to pay"),
                         ConsoleParam("to", .string, required: false, "routed: a node id to pay spontaneously"),
                         ConsoleParam("asset", .string, required: false, "routed (to): the asset (or named by amount)"),
                         ConsoleParam("decimals", .integer, required: false, "routed (to): the asset's decimals if new to this node"),
                         ConsoleParam("id", .string, required: false, "routed: payment id (idempotency key); default the payment hash"),
                         ConsoleParam("max_fee", .string, required: false, "routed: the most fees the route may cost")],
                result: "{complete, signed, burst, ackedNonce, ackedAmount, asset, decimals, channels: [{channel, nonce, paid, ackedNonce, ackedAmount}], elapsedMs, paymentsPerSecond, latencyMs: {p50, p99, max, samples}, error: {code, name, message} or null}"
            ) { call in
                if call.params["request"] != nil || call.params["to"] != nil {
                    guard let routed else { throw NodeError.invalidParams("routed payments need the gossip layer (the node runs without it)") }
                    return try await RoutedPaymentMethods.pay(call, routed: routed, payments: s)
                }
                for name in ["asset", "decimals", "id", "max_fee"] where call.params[name] != nil {
                    throw NodeError.invalidParams("\(name) is for routed payments (request or to)")
                }
                var channels: [ChannelID] = []
                if let one = call.string("channel") { channels.append(try PaymentParams.channelID(one)) }
                for item in call.params["channels"]?.arrayValue ?? [] {
                    guard let text = item.stringValue else { throw NodeError.invalidParams("channels must be channel ids") }
                    channels.append(try PaymentParams.channelID(text))
                }
                guard !channels.isEmpty else { throw NodeError.invalidParams("pay needs channel or channels") }
                let count = Int(try PaymentParams.nonNegative(call, "count") ?? 1)
                guard count >= 1, count <= 100_000_000 else { throw NodeError.invalidParams("count must be 1…100000000") }
                let rate = try PaymentParams.nonNegative(call, "rate").map { Int($0) }
                if let task = call.string("task_id"), task.utf8.isEmpty || task.utf8.count > 128 { throw NodeError.invalidParams("task_id must be 1–128 bytes") }
                let amount = try PaymentParams.amountParam(call, "amount", asset: await PaymentParams.channelAsset(channels[0], s))

                var request = PayRequest(channels: channels, amount: amount, taskID: call.string("task_id"), count: count,
                                         ratePerSecond: rate, timeoutMillis: UInt64(try PaymentParams.nonNegative(call, "timeout_ms") ?? 60_000))
                var assets: [ChannelID: Asset] = [:]
                for id in channels { assets[id] = await PaymentParams.channelAsset(id, s) }
                guard call.bool("progress") == true else { return PaymentsJSON.payJSON(try await s.pay(request), assets: assets) }
                // Progress: the payments actor yields into a one-slot buffer (never blocks, keeps the
                // latest); this call sends what it holds as notifications, all before the response.
                let (reports, sink) = AsyncStream<PayProgress>.makeStream(bufferingPolicy: .bufferingNewest(1))
                request.onProgress = { sink.yield($0) }
                let session = call.session, asset = assets[channels[0]]
                return try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask {
                        for await report in reports {
                            try? await session.notify(method: "pay.progress", params: PaymentsJSON.progressJSON(report, asset: asset))
                        }
                    }
                    defer { sink.finish() }
                    let outcome = try await s.pay(request)
                    sink.finish()
                    try await group.waitForAll()
                    return PaymentsJSON.payJSON(outcome, assets: assets)
                }
            },
            ConsoleMethod(
                "pay.cancel", summary: "Stops a running `pay` burst after the vouchers in flight; it returns complete:false with -32050 CANCELLED and what was acknowledged. From any console connection.",
                params: [ConsoleParam("burst", .integer, "the burst id (`burst` of its pay.progress notifications and of pay.running)")],
                result: "{burst, cancelled} — cancelled false when no such burst runs (it ended)"
            ) { call in
                let burst = try call.requireInt("burst")
                guard let id = UInt64(exactly: burst) else { throw NodeError.invalidParams("burst must be a burst id") }
                return ["burst": .int(burst), "cancelled": .bool(await s.cancelPay(id))]
            },
            ConsoleMethod(
                "pay.running", summary: "Lists the `pay` bursts running now (ids for pay.cancel).",
                result: "{bursts: [burst]}"
            ) { _ in
                ["bursts": .array(await s.runningBursts.map { JSONValue($0) })]
            },
        ]
    }
}
