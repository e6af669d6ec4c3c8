import PaymeshCrypto
import PaymeshMessages
import PaymeshStore

/// Deterministic channels, vouchers and receipts, so a test can recompute what a voucher of a
/// given channel and nonce must contain. Tests/PaymeshStoreTests/Fixtures.swift is a symlink to
/// this file, so the test and its child process share one definition.
enum Fixtures {
    static let asset = try! Asset(id: "USDC", decimals: 6)
    static let deposit = Amount(UInt128(1) << 100)
    static let unit: UInt128 = 1_000

    static func channelID(_ index: Int) -> ChannelID {
        var bytes = [UInt8](repeating: 0, count: 32)
        bytes[0] = 0xC4
        withUnsafeBytes(of: UInt64(index).bigEndian) { bytes.replaceSubrange(24..<32, with: $0) }
        return try! ChannelID(bytes)
    }

    static func address(_ tag: UInt8) -> EthereumAddress {
        try! EthereumAddress([UInt8](repeating: tag, count: 20))
    }

    static func amount(nonce: UInt64) -> Amount { Amount(UInt128(nonce) * unit) }

    /// A well-formed (v = 27, low s) but fake signature that encodes the channel and nonce.
    static func signature(channel index: Int, nonce: UInt64) -> Signature65 {
        var bytes = [UInt8](repeating: 0, count: 65)
        bytes[0] = 0x01
        withUnsafeBytes(of: nonce.bigEndian) { bytes.replaceSubrange(24..<32, with: $0) }
        withUnsafeBytes(of: UInt64(index).bigEndian) { bytes.replaceSubrange(33..<41, with: $0) }
        bytes[63] = 0x01
        bytes[64] = 27
        return try! Signature65(bytes)
    }

    static func voucher(channel index: Int, nonce: UInt64, timestampMillis: Int64 = 0) -> StoredVoucher {
        StoredVoucher(channel: channelID(index), nonce: nonce, amount: amount(nonce: nonce),
                      signature: signature(channel: index, nonce: nonce), taskID: "task-\(nonce)",
                      timestampMillis: timestampMillis)
    }

    static func channel(_ index: Int, role: ChannelRole = .payer) -> ChannelRecord {
        ChannelRecord(
            id: channelID(index), role: role, localAddress: address(0xAA), remoteAddress: address(0xBB),
            asset: asset, deposit: deposit, challengePeriodSeconds: 3_600, settlementBackend: "local-ledger",
            chainID: 31_337, verifyingContract: .zero, status: .open,
            openSignature: signature(channel: index, nonce: 0), openedAtMillis: 1_700_000_000_000)
    }

    static func receiptHash(channel index: Int, seq: UInt64) -> Hash32 {
        var bytes = [UInt8](repeating: 0x5E, count: 32)
        withUnsafeBytes(of: seq.bigEndian) { bytes.replaceSubrange(24..<32, with: $0) }
        withUnsafeBytes(of: UInt64(index).bigEndian) { bytes.replaceSubrange(8..<16, with: $0) }
        return try! Hash32(bytes)
    }

    static func receipt(channel index: Int, seq: UInt64) -> ReceiptRecord {
        ReceiptRecord(channel: channelID(index), seq: seq, hash: receiptHash(channel: index, seq: seq),
                      prevHash: seq > 1 ? receiptHash(channel: index, seq: seq - 1) : nil,
                      json: #"{"seq":\#(seq)}"#, signature: signature(channel: index, nonce: seq))
    }
}
