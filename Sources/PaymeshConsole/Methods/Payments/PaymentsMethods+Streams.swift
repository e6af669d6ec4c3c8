import PaymeshChannels
import PaymeshNode

/// Metered payment streams (Specs/console.md §8): stream.start, stream.usage, stream.stop.
extension PaymentsMethods {
    var streams: [ConsoleMethod] {
        let s = payments
        return [
            ConsoleMethod(
                "stream.start", summary: "Starts a metered payment stream on a payer channel: per call, token, byte (pay on stream.usage) or second (paid every 250 ms).",
                params: [ConsoleParam("channel", .string, "channel id"), ConsoleParam("unit", .string, "call, token, second or byte"),
                         ConsoleParam("price", .string, "atomic units per unit (decimal string)"),
                         ConsoleParam("cap", .string, "the most this stream may pay (decimal string)")],
                result: "stream: {stream, channel, unit, price, cap, paid, paidUnits, status, vouchers, nonce}"
            ) { call in
                guard let unit = UsageUnit(rawValue: try call.requireString("unit")) else { throw NodeError.invalidParams("unit is call, token, second or byte") }
                return PaymentsJSON.streamJSON(try await s.startStream(channel: try PaymentParams.channelParam(call), unit: unit, price: try PaymentParams.amountParam(call, "price"),
                                                          cap: try PaymentParams.amountParam(call, "cap")))
            },
            ConsoleMethod(
                "stream.usage", summary: "Reports usage on a stream: pays units × price and waits for the acknowledgement (pauses at the cap or the channel balance).",
                params: [ConsoleParam("stream", .string, "stream id"), ConsoleParam("units", .integer, "units used")],
                result: "stream"
            ) { call in
                guard let units = call.int("units"), units > 0 else { throw NodeError.invalidParams("units must be a positive integer") }
                return PaymentsJSON.streamJSON(try await s.streamUsage(try call.requireString("stream"), units: UInt64(units)))
            },
            ConsoleMethod(
                "stream.stop", summary: "Stops a stream (a per-second stream bills its last interval first).",
                params: [ConsoleParam("stream", .string, "stream id")], result: "stream"
            ) { call in
                PaymentsJSON.streamJSON(try await s.stopStream(try call.requireString("stream")))
            },
        ]
    }
}
