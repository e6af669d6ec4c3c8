import PaymeshChannels
import PaymeshMessages
import PaymeshNode

/// Parameters of the payments methods, checked into typed values.
enum PaymentParams {
    static func channelID(_ text: String) throws(NodeError) -> ChannelID {
        guard let id = try? ChannelID(hex: text) else { throw .invalidParams("not a channel id (0x + 64 hex digits): \(text)") }
        return id
    }

    static func channelParam(_ call: ConsoleCall) throws(NodeError) -> ChannelID { try channelID(try call.requireString("channel")) }

    /// An amount as typed (Specs/README.md, "Amounts for people"): atomic units (`1000000`, a JSON
    /// integer or string) or a decimal value of `asset` (`1.5`, `1.5USDC`), converted exactly.
    /// A value naming another asset than `asset` is refused with 1106.
    static func amountParam(_ call: ConsoleCall, _ name: String, asset: Asset?) throws(NodeError) -> UInt128 {
        let text = try call.requireString(name)
        let input: AmountInput
        do { input = try AmountInput(parsing: text) } catch { throw .invalidParams("\(name): \(error.detail)") }
        if let id = input.assetID, let asset, id != asset.id {
            throw .paymesh(.assetMismatch, "\(name) \(text) is in \(id), but the \(call.method) is in \(asset.id)")
        }
        do { return try input.atomicUnits(decimals: asset?.decimals).atomicUnits } catch {
            throw .invalidParams("\(name): \(error.detail)")
        }
    }

    static func nonNegative(_ call: ConsoleCall, _ name: String) throws(NodeError) -> Int64? {
        guard let v = call.int(name) else { return nil }
        guard v >= 0 else { throw .invalidParams("\(name) must not be negative") }
        return v
    }

    /// The asset of a call: `asset` (normalised) or the asset an amount names (`1.5USDC`), with
    /// `decimals` as given or as this node's registry holds them. Decimals other than the
    /// registry's are refused with 1106 ASSET_MISMATCH; a new id needs its decimals.
    static func assetParam(_ call: ConsoleCall, amount name: String, payments: PaymentsService) async throws(NodeError) -> Asset {
        var id = call.string("asset").map(Asset.normalizedID)
        if let text = call.string(name), let suffix = (try? AmountInput(parsing: text))?.assetID {
            if let given = id, given != suffix { throw .paymesh(.assetMismatch, "\(name) \(text) is in \(suffix), but asset is \(given)") }
            id = suffix
        }
        guard let id else { throw .invalidParams("\(call.method) needs asset (e.g. asset=USDC, or \(name)=1.5USDC)") }
        let registered = await payments.assetDecimals(id)
        let given = call.int("decimals")
        if let given, !(0...36).contains(given) { throw .invalidParams("decimals must be 0–36") }
        if let given, let registered, Int64(registered) != given {
            throw .paymesh(.assetMismatch, "\(id) has \(registered) decimals on this node, not \(given)")
        }
        guard let decimals = given.map({ UInt8($0) }) ?? registered else {
            throw .invalidParams("\(id) is new to this node: give its decimals (e.g. decimals=6)")
        }
        guard let asset = try? Asset(id: id, decimals: decimals) else { throw .invalidParams("asset id must be 1–32 bytes") }
        return asset
    }

    /// The asset of a channel of this node (for amounts given in its units); nil for an unknown channel.
    static func channelAsset(_ id: ChannelID, _ payments: PaymentsService) async -> Asset? {
        await payments.view(id)?.snapshot.terms.asset
    }
}
