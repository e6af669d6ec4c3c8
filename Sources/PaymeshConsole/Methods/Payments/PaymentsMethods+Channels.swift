import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages
import PaymeshNode

/// Channel methods (Specs/console.md §8): channel.open, channel.list, channel.get, channel.close,
/// channel.history over `PaymentsService`. Money is atomic units as decimal strings.
extension PaymentsMethods {
    var channels: [ConsoleMethod] {
        let s = payments
        return [
            ConsoleMethod(
                "channel.open", summary: "Opens a payment channel to a connected peer (locks the deposit on the local ledger) and waits for the payee's answer.",
                params: [ConsoleParam("peer", .string, "payee peer id"),
                         ConsoleParam("asset", .string, required: false, "asset id, e.g. USDC (normalised); or name it in deposit"),
                         ConsoleParam("decimals", .integer, required: false, "asset decimals 0–36; default: this node's registry"),
                         ConsoleParam("deposit", .string, "atomic units (1000000) or a decimal value of the asset (1.5, 1.5USDC)"),
                         ConsoleParam("challenge_period", .integer, required: false, "seconds, default 3600"),
                         ConsoleParam("chain_id", .integer, required: false, "EIP-712 chain id, default 0"),
                         ConsoleParam("timeout_ms", .integer, required: false, "default 15000")],
                result: "channel: {channel, role, peer, state, asset, decimals, deposit, paid, available, nonce, ackedNonce, ackedAmount, …}"
            ) { call in
                let peer = try ConsoleParams.peerID(call, "peer")
                let asset = try await PaymentParams.assetParam(call, amount: "deposit", payments: s)
                let request = OpenRequest(peer: peer, asset: asset, deposit: try PaymentParams.amountParam(call, "deposit", asset: asset),
                                          challengePeriodSeconds: UInt64(try PaymentParams.nonNegative(call, "challenge_period") ?? 3_600),
                                          chainID: UInt64(try PaymentParams.nonNegative(call, "chain_id") ?? 0),
                                          timeoutMillis: UInt64(try PaymentParams.nonNegative(call, "timeout_ms") ?? 15_000))
                return PaymentsJSON.channelJSON(try await s.openChannel(request))
            },
            ConsoleMethod("channel.list", summary: "Every channel of this node.", result: "{channels: [channel]}") { _ in
                ["channels": .array(await s.views().map(PaymentsJSON.channelJSON))]
            },
            ConsoleMethod(
                "channel.get", summary: "One channel.", params: [ConsoleParam("channel", .string, "channel id (0x + 64 hex)")], result: "channel"
            ) { call in
                let id = try PaymentParams.channelParam(call)
                guard let v = await s.view(id) else { throw PaymentsService.channelNotFound(id) }
                return PaymentsJSON.channelJSON(v)
            },
            ConsoleMethod(
                "channel.close", summary: "Closes a channel: cooperative (both sign, then settle on the local ledger) or unilateral (challenge period).",
                params: [ConsoleParam("channel", .string, "channel id"),
                         ConsoleParam("mode", .string, required: false, "cooperative (default) or unilateral"),
                         ConsoleParam("wait", .boolean, required: false, "cooperative: wait until SETTLED (default true)"),
                         ConsoleParam("timeout_ms", .integer, required: false, "default 15000")],
                result: "channel"
            ) { call in
                let id = try PaymentParams.channelParam(call)
                let mode = call.string("mode") ?? "cooperative"
                guard mode == "cooperative" || mode == "unilateral" else { throw NodeError.invalidParams("mode is cooperative or unilateral") }
                return PaymentsJSON.channelJSON(try await s.closeChannel(id, cooperative: mode == "cooperative", wait: call.bool("wait") ?? true,
                                                             timeoutMillis: UInt64(try PaymentParams.nonNegative(call, "timeout_ms") ?? 15_000)))
            },
            ConsoleMethod(
                "channel.history", summary: "The channel's append-only voucher log (payer: signed; payee: accepted), in nonce order.",
                params: [ConsoleParam("channel", .string, "channel id"), ConsoleParam("after", .integer, required: false, "nonce to start after (default 0)"),
                         ConsoleParam("limit", .integer, required: false, "at most this many, default 1000, max 100000")],
                result: "{vouchers: [{nonce, amount, taskId}]}"
            ) { call in
                let limit = min(100_000, max(1, Int(try PaymentParams.nonNegative(call, "limit") ?? 1_000)))
                let rows = try await s.history(try PaymentParams.channelParam(call), after: UInt64(try PaymentParams.nonNegative(call, "after") ?? 0), limit: limit)
                return ["vouchers": .array(rows.map { ["nonce": JSONValue($0.nonce), "amount": .string($0.amount.description), "taskId": JSONValue($0.taskID)] })]
            },
        ]
    }
}
