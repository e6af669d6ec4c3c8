import Foundation
import PaymeshCrypto
public import PaymeshMessages

/// A channel's receipts with what is needed to verify them offline: the JSON that
/// `paymesh receipts` exports and `paymesh receipts verify` reads (Specs/channels.md §10.3).
public struct ReceiptBundle: Sendable, Hashable, Codable {
    public static let format = "paymesh-receipts/1"

    public var channelID: ChannelID
    public var payer: EthereumAddress
    public var payee: EthereumAddress
    public var asset: String
    public var decimals: UInt8
    public var chainID: UInt64
    public var verifyingContract: EthereumAddress
    public var receipts: [Receipt]

    public init(terms: ChannelTerms, receipts: [Receipt]) {
        channelID = terms.channelID
        payer = terms.payer
        payee = terms.payee
        asset = terms.asset.id
        decimals = terms.asset.decimals
        chainID = terms.open.chainID
        verifyingContract = terms.open.verifyingContract
        self.receipts = receipts
    }

    public var domain: SigningDomain { SigningDomain(chainID: chainID, verifyingContract: verifyingContract) }

    public func jsonData() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }

    public static func decode(json: Data) throws -> ReceiptBundle { try JSONDecoder().decode(Self.self, from: json) }

    enum CodingKeys: String, CodingKey {
        case format, channelID = "channel_id", payer, payee, asset, decimals, chainID = "chain_id"
        case verifyingContract = "verifying_contract", receipts
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        guard try c.decode(String.self, forKey: .format) == Self.format else {
            throw DecodingError.dataCorruptedError(forKey: .format, in: c, debugDescription: "expected \(Self.format)")
        }
        channelID = try c.decodeHex(ChannelID.self, .channelID)
        payer = try c.decodeHex(EthereumAddress.self, .payer)
        payee = try c.decodeHex(EthereumAddress.self, .payee)
        asset = try c.decode(String.self, forKey: .asset)
        decimals = try c.decode(UInt8.self, forKey: .decimals)
        chainID = try c.decode(UInt64.self, forKey: .chainID)
        verifyingContract = try c.decodeHex(EthereumAddress.self, .verifyingContract)
        receipts = try c.decode([Receipt].self, forKey: .receipts)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(Self.format, forKey: .format)
        try c.encode(channelID.bytes.hexString, forKey: .channelID)
        try c.encode(payer.bytes.hexString, forKey: .payer)
        try c.encode(payee.bytes.hexString, forKey: .payee)
        try c.encode(asset, forKey: .asset)
        try c.encode(decimals, forKey: .decimals)
        try c.encode(chainID, forKey: .chainID)
        try c.encode(verifyingContract.bytes.hexString, forKey: .verifyingContract)
        try c.encode(receipts, forKey: .receipts)
    }
}

/// JSON form: bin fields as lowercase hex without 0x, the amount as a decimal string, integers as
/// JSON numbers.
extension Receipt: Codable {
    enum CodingKeys: String, CodingKey {
        case channelID = "channel_id", seq, nonce, amount, taskID = "task_id", usage, prevHash = "prev_hash"
        case timestamp, hash, signature
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        channelID = try c.decodeHex(ChannelID.self, .channelID)
        seq = try c.decode(UInt64.self, forKey: .seq)
        nonce = try c.decode(UInt64.self, forKey: .nonce)
        let amountText = try c.decode(String.self, forKey: .amount)
        do { amount = try Amount(decimal: amountText).atomicUnits } catch {
            throw DecodingError.dataCorruptedError(forKey: .amount, in: c, debugDescription: "amount: \(error.detail)")
        }
        taskID = try c.decodeIfPresent(String.self, forKey: .taskID)
        usage = try c.decodeIfPresent(Usage.self, forKey: .usage)
        prevHash = try c.decodeHex(.prevHash, count: 32)
        timestamp = try c.decode(UInt64.self, forKey: .timestamp)
        hash = try c.decodeHex(.hash, count: 32)
        signature = try c.decodeHex(Signature65.self, .signature)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(channelID.bytes.hexString, forKey: .channelID)
        try c.encode(seq, forKey: .seq)
        try c.encode(nonce, forKey: .nonce)
        try c.encode(String(amount), forKey: .amount)
        try c.encodeIfPresent(taskID, forKey: .taskID)
        try c.encodeIfPresent(usage, forKey: .usage)
        try c.encode(prevHash.hexString, forKey: .prevHash)
        try c.encode(timestamp, forKey: .timestamp)
        try c.encode(hash.hexString, forKey: .hash)
        try c.encode(signature.bytes.hexString, forKey: .signature)
    }
}

extension KeyedDecodingContainer {
    func decodeHex(_ key: Key, count: Int) throws -> [UInt8] {
        guard let bytes = [UInt8](hex: try decode(String.self, forKey: key)), bytes.count == count else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "expected \(count) bytes of hex")
        }
        return bytes
    }

    func decodeHex<T: FixedBytes>(_ type: T.Type, _ key: Key) throws -> T {
        do { return try T(try decodeHex(key, count: T.byteCount)) } catch let error as MessageError {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: error.detail)
        }
    }
}
