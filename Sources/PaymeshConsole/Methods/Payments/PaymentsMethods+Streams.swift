import PaymeshChannels
import PaymeshMessages
import PaymeshNode

/// Metered payment streams (Specs/console.md §8): stream.start, stream.usage, stream.stop.
extension PaymentsMethods {
    var streams: [ConsoleMethod] {
        let s = payments
        return [
            ConsoleMethod(
                "stream.start", summary: "Starts a metered payment stream on a payer channel: per call, token, byte (pay on stream.usage) or second (paid every 250 ms).",
                params: [ConsoleParam("channel", .string, "channel id"), ConsoleParam("unit", .string, "call, token, second or byte"),
                         ConsoleParam("price", .string, "per unit: atomic units or a decimal value of the channel's asset (0.001USDC)"),
                         ConsoleParam("cap", .string, "the most this stream may pay: atomic units or a decimal value (1.5USDC)")],
                result: "stream: {stream, channel, unit, price, cap, paid, paidUnits, status, vouchers, nonce}"
            ) { call in
                guard let unit = UsageUnit(rawValue: try call.requireString("unit")) else { throw NodeError.invalidParams("unit is call, token, second or byte") }
                let channel = try PaymentParams.channelParam(call), asset = await PaymentParams.channelAsset(channel, s)
                return PaymentsJSON.streamJSON(try await s.startStream(channel: channel, unit: unit, price: try PaymentParams.amountParam(call, "price", asset: asset),
                                                          cap: try PaymentParams.amountParam(call, "cap", asset: asset)), asset: asset)
            },
            ConsoleMethod(
                "stream.usage", summary: "Reports usage on a stream: pays units × price and waits for the acknowledgement (pauses at the cap or the channel balance).",
                params: [ConsoleParam("stream", .string, "stream id"), ConsoleParam("units", .integer, "units used")],
                result: "stream + {paidNow, complete}: complete is false when this call paid less than units × price (paused)"
            ) { call in
                guard let units = call.int("units"), units > 0 else { throw NodeError.invalidParams("units must be a positive integer") }
                let name = try call.requireString("stream")
                let before = await s.streamView(name)?.paid ?? 0
                let v = try await s.streamUsage(name, units: UInt64(units))
                // What this call paid; less than units × price when the stream paused at its cap or the balance.
                let paidNow = v.paid >= before ? v.paid - before : 0
                let (asked, overflow) = v.price.multipliedReportingOverflow(by: UInt128(units))
                return PaymentsJSON.merging(PaymentsJSON.streamJSON(v, asset: await PaymentParams.channelAsset(v.channel, s)),
                                            ["paidNow": .string(String(paidNow)), "complete": .bool(!overflow && paidNow >= asked)])
            },
            ConsoleMethod(
                "stream.stop", summary: "Stops a stream (a per-second stream bills its last interval first).",
                params: [ConsoleParam("stream", .string, "stream id")], result: "stream"
            ) { call in
                let v = try await s.stopStream(try call.requireString("stream"))
                return PaymentsJSON.streamJSON(v, asset: await PaymentParams.channelAsset(v.channel, s))
            },
        ]
    }
}
