import Foundation
import PaymeshCrypto
import PaymeshMessages
@testable import PaymeshPay402

/// Fixtures shared by the suites: a payer and a payee, a channel between them, a signed voucher.
enum Fixture {
    static let payerKey = key(0x11)
    static let payeeKey = key(0x22)
    static let forgerKey = key(0x33)
    static let domain = SigningDomain(chainID: 84_532, verifyingContract: EthereumAddress(string: "0x5fbdb2315678afecb367f032d93f642f64180aa3")!)
    static let channelID = try! ChannelID([UInt8](repeating: 0xc4, count: 32))
    static let asset = try! Asset(id: "USDC", decimals: 6)
    static let price: UInt128 = 250
    static let rootKey = [UInt8](repeating: 0x5a, count: 32)
    static let preimage = [UInt8](repeating: 0x7e, count: 32)
    static let tokenID = [UInt8](repeating: 0x01, count: 32)
    static let now: UInt64 = 1_767_225_600

    static func key(_ byte: UInt8) -> IdentityKey {
        IdentityKey(privateKey: try! .init(rawRepresentation: [UInt8](repeating: byte, count: 32)))
    }

    static func channel(latestNonce: UInt64 = 4, latestAmount: UInt128 = 1_000, deposit: UInt128 = 1_000_000,
                        active: Bool = true, payee: EthereumAddress = payeeKey.address) -> ChannelView {
        ChannelView(channelID: channelID, payer: payerKey.address, payee: payee, asset: asset, domain: domain,
                    acceptsPayments: active, latestNonce: latestNonce, latestAmount: latestAmount, limit: deposit)
    }

    static func requirements(payTo: EthereumAddress = payeeKey.address, price: UInt128 = price) -> PaymentRequirements {
        .channel(price: price, asset: "USDC", decimals: 6, unit: "call", payee: payTo, chainID: 84_532,
                 verifyingContract: domain.verifyingContract!, resource: "http://127.0.0.1:8402/svc/search",
                 description: "search")
    }

    static func voucher(nonce: UInt64, amount: UInt128, signer: IdentityKey = payerKey, taskID: String? = nil,
                        channel: ChannelID = channelID) -> PaymentUpdate {
        let unsigned = try! PaymentUpdate(channelID: channel, nonce: nonce, amount: Amount(amount), timestamp: 1_767_225_600_000,
                                          taskID: taskID, signature: Signature65([UInt8](repeating: 1, count: 64) + [27]))
        return try! unsigned.signed(with: signer, domain: domain)
    }

    static var paymentHash: [UInt8] { SHA256.hash(preimage) }

    static func l402(service: String = "search", capabilities: [String] = ["query"], validUntil: UInt64 = now + 3_600) -> L402Challenge {
        L402Challenge.mint(rootKey: rootKey, paymentHash: paymentHash, tokenID: tokenID, service: service,
                           capabilities: capabilities, validUntil: validUntil, invoice: "lnpm1invoice")
    }
}

/// Runs `body` and returns the code of the `Pay402Error` it throws (nil when it returns).
func refusal<T>(_ body: () throws(Pay402Error) -> T) -> PaymeshErrorCode? {
    do { _ = try body(); return nil } catch { return error.code }
}
