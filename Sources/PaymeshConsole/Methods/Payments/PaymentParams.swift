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

    static func amountParam(_ call: ConsoleCall, _ name: String) throws(NodeError) -> UInt128 {
        let text = try call.requireString(name)
        guard let a = try? Amount(decimal: text) else { throw .invalidParams("\(name) must be a decimal string of atomic units (no sign, no fraction): \(text)") }
        return a.atomicUnits
    }

    static func nonNegative(_ call: ConsoleCall, _ name: String) throws(NodeError) -> Int64? {
        guard let v = call.int(name) else { return nil }
        guard v >= 0 else { throw .invalidParams("\(name) must not be negative") }
        return v
    }

    static func assetParam(_ call: ConsoleCall) throws(NodeError) -> Asset {
        let id = try call.requireString("asset"), decimals = try call.requireInt("decimals")
        guard (0...36).contains(decimals), let asset = try? Asset(id: id, decimals: UInt8(decimals)) else {
            throw .invalidParams("asset must be 1–32 bytes and decimals 0–36")
        }
        return asset
    }
}
