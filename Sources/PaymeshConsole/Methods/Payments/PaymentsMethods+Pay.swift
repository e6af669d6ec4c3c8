import PaymeshChannels
import PaymeshMessages
import PaymeshNode

/// `pay` (Specs/console.md §8): signed cumulative vouchers, pipelined or paced.
extension PaymentsMethods {
    var pay: [ConsoleMethod] {
        let s = payments
        return [
            ConsoleMethod(
                "pay", summary: "Pays `amount` more on a channel (a signed cumulative voucher); with `count`, that many payments as fast as possible (pipelined) or at `rate` per second.",
                params: [ConsoleParam("channel", .string, required: false, "channel id (or `channels`)"),
                         ConsoleParam("channels", .array, required: false, "several channel ids, paid round-robin"),
                         ConsoleParam("amount", .string, "increment per payment: atomic units (1000) or a decimal value of the channel's asset (0.001, 0.001USDC)"),
                         ConsoleParam("task_id", .string, required: false, "request correlation id carried in the voucher"),
                         ConsoleParam("count", .integer, required: false, "number of payments, default 1"),
                         ConsoleParam("rate", .integer, required: false, "payments per second (default: as fast as possible)"),
                         ConsoleParam("timeout_ms", .integer, required: false, "default 60000")],
                result: "{complete, signed, ackedNonce, ackedAmount, channels: [{channel, nonce, paid, ackedNonce, ackedAmount}], elapsedMs, paymentsPerSecond, latencyMs: {p50, p99, max, samples}, error}"
            ) { call in
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

                let request = PayRequest(channels: channels, amount: amount, taskID: call.string("task_id"), count: count,
                                         ratePerSecond: rate, timeoutMillis: UInt64(try PaymentParams.nonNegative(call, "timeout_ms") ?? 60_000))
                var assets: [ChannelID: Asset] = [:]
                for id in channels { assets[id] = await PaymentParams.channelAsset(id, s) }
                return PaymentsJSON.payJSON(try await s.pay(request), assets: assets)
            },
        ]
    }
}
