import PaymeshChannels
import PaymeshMessages
import PaymeshNode

/// Metered payment streams (Specs/console.md §8): stream.start, stream.usage, stream.stop,
/// stream.resume, stream.info, stream.list.
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
            ConsoleMethod(
                "stream.resume", summary: "Resumes a paused stream (after raising its cap or topping up the channel); paused time is not billed.",
                params: [ConsoleParam("stream", .string, "stream id"),
                         ConsoleParam("cap", .string, required: false, "a new cap (≥ what the stream paid): atomic units or a decimal value (2USDC)")],
                result: "stream"
            ) { call in
                let name = try call.requireString("stream")
                var asset: Asset?
                if let known = await s.streamView(name) { asset = await PaymentParams.channelAsset(known.channel, s) }
                var cap: UInt128?
                if call.string("cap") != nil { cap = try PaymentParams.amountParam(call, "cap", asset: asset) }
                return PaymentsJSON.streamJSON(try await s.resumeStream(name, cap: cap), asset: asset)
            },
            ConsoleMethod(
                "stream.info", summary: "One stream: running, paused, or stopped (the newest 100 stopped streams are kept).",
                params: [ConsoleParam("stream", .string, "stream id")], result: "stream"
            ) { call in
                let name = try call.requireString("stream")
                guard let v = await s.streamView(name) else { throw NodeError.invalidParams("no stream \(name)") }
                return PaymentsJSON.streamJSON(v, asset: await PaymentParams.channelAsset(v.channel, s))
            },
            ConsoleMethod(
                "stream.list", summary: "Every stream of the node: running, paused and the newest 100 stopped ones, by id.",
                result: "{streams: [stream]}"
            ) { _ in
                var list: [JSONValue] = []
                for v in await s.streamViews() { list.append(PaymentsJSON.streamJSON(v, asset: await PaymentParams.channelAsset(v.channel, s))) }
                return ["streams": .array(list)]
            },
        ]
    }
}
