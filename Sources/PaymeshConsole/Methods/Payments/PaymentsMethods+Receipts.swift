import Foundation
import PaymeshChannels
import PaymeshNode

/// `receipts` (Specs/console.md §8): the payee's signed receipt chain of a channel.
extension PaymentsMethods {
    var receipts: [ConsoleMethod] {
        let s = payments
        return [
            ConsoleMethod(
                "receipts", summary: "The payee's hash-chained signed receipts of a channel, as the JSON `paymesh receipts verify` checks.",
                params: [ConsoleParam("channel", .string, "channel id")],
                result: "{format: \"paymesh-receipts/1\", channel_id, payer, payee, asset, decimals, chain_id, verifying_contract, receipts: […]}"
            ) { call in
                let bundle = try await s.receiptBundle(try PaymentParams.channelParam(call))
                guard let data = try? bundle.jsonData() else { throw NodeError.internalError("receipt bundle does not encode") }
                return try JSONValue.parse(Array(data))
            },
        ]
    }
}
