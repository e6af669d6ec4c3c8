import Foundation
import Testing
@testable import PaymeshCrypto

@Suite struct EthereumAddressTests {
    /// EIP-55 "Test Cases".
    static let eip55Examples = [
        "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        "0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359",
        "0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB",
        "0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb",
        "0x52908400098527886E0F7030069857D2E4169EE7",
        "0x8617E340B3D01FA5F11F306F4090FD50E238070D",
        "0xde709f2102306220921060314715629080e2fb77",
        "0x27b1fdb04752bbc536007a920d24acb045561c26",
    ]

    @Test(arguments: eip55Examples)
    func eip55RoundTrip(_ checksummed: String) throws {
        let address = try #require(EthereumAddress(string: checksummed))
        #expect(address.description == checksummed)
        #expect(EthereumAddress(string: checksummed.lowercased()) == address)
        #expect(EthereumAddress(string: String(checksummed.dropFirst(2)).uppercased()) == address)
        #expect(EthereumAddress(string: String(checksummed.dropFirst(2))) == address)
    }

    @Test func wellKnownKeyFromEthAccountDocs() throws {
        let key = try Secp256k1.PrivateKey(rawRepresentation: hex("4c0883a69102937d6231471b5dbb6204fe5129617082792ae468d01a3f362318"))
        #expect(IdentityKey(privateKey: key).address.description == "0x2c7536E3605D9C16a7a3D7b1898e529396a65c23")
    }

    @Test func badChecksumIsRejected() {
        // One letter's case flipped in an EIP-55 example.
        #expect(EthereumAddress(string: "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD") == nil)
        #expect(EthereumAddress(string: "0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed") == nil)
        #expect(throws: CryptoError.self) { try EthereumAddress.parse("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD") }
    }

    @Test(arguments: ["", "0x", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA", "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00",
                      "0xg aeb6053f3e94c9b9a09f33669435e7ef1beaed", "0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaeé",
                      "5aaeb6053f3e94c9b9a09f33669435e7ef1beaed5a", "0x 5aaeb6053f3e94c9b9a09f33669435e7ef1bea"])
    func malformedStringsAreRejected(_ text: String) {
        #expect(EthereumAddress(string: text) == nil)
    }

    @Test func rawLengthIsChecked() throws {
        #expect(throws: CryptoError.self) { try EthereumAddress(rawRepresentation: [UInt8](repeating: 1, count: 19)) }
        #expect(throws: CryptoError.self) { try EthereumAddress(rawRepresentation: [UInt8](repeating: 1, count: 21)) }
        #expect(EthereumAddress.zero.description == "0x0000000000000000000000000000000000000000")
    }

    @Test func orderedByBytes() throws {
        let low = try EthereumAddress(rawRepresentation: [UInt8](repeating: 0, count: 19) + [0xff])
        let high = try EthereumAddress(rawRepresentation: [0x01] + [UInt8](repeating: 0, count: 19))
        #expect(EthereumAddress.zero < low)
        #expect(low < high)
        #expect([high, low, .zero].sorted() == [.zero, low, high])
    }
}
