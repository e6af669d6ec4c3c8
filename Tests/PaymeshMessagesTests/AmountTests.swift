import PaymeshMessages
import Testing

@Suite("Amount")
struct AmountTests {
    @Test(arguments: ["0", "1", "10", "1000000", "340282366920938463463374607431768211455"])
    func canonicalDecimalsRoundTrip(text: String) throws {
        #expect(try Amount(decimal: text).description == text)
    }

    @Test func maxIsUInt128Max() throws {
        #expect(try Amount(decimal: "340282366920938463463374607431768211455").atomicUnits == UInt128.max)
    }

    @Test(arguments: ["", "01", "00", "-1", "+1", "1.5", "1e3", " 1", "1 ", "0x10", "１",
                      "340282366920938463463374607431768211456", "1000000000000000000000000000000000000000"])
    func nonCanonicalIsMalformed(text: String) {
        #expect(throws: MessageError.self) { try Amount(decimal: text) }
    }

    @Test func ordering() {
        #expect(Amount(1) < Amount(2))
        #expect(Amount.zero == Amount(0))
    }
}

@Suite("PaymeshErrorCode")
struct ErrorCodeTests {
    @Test func agentPayNumbersAndNames() {
        #expect(PaymeshErrorCode.insufficientFunds.rawValue == 1100)
        #expect(PaymeshErrorCode.invalidSignature.name == "INVALID_SIGNATURE")
        #expect(PaymeshErrorCode.paymentRequired.rawValue == 1301)
        #expect(PaymeshErrorCode.noRouteFound.rawValue == 1400)
        #expect(PaymeshErrorCode.unsupportedMessage.rawValue == 1500)
        #expect(PaymeshErrorCode.malformedMessage.name == "MALFORMED_MESSAGE")
        #expect(PaymeshErrorCode.rateLimited.rawValue == 1504)
        #expect(PaymeshErrorCode(rawValue: 1999).name == nil)
    }

    @Test func everyAgentPayRangeIsFullyNamed() {
        let ranges: [ClosedRange<UInt16>] = [1000...1004, 1100...1105, 1200...1202, 1300...1303, 1400...1402, 1500...1504]
        for range in ranges {
            for raw in range { #expect(PaymeshErrorCode(rawValue: raw).name != nil, "\(raw)") }
        }
        #expect(Set(PaymeshErrorCode.allKnown.compactMap(\.name)).count == PaymeshErrorCode.allKnown.count)
    }
}
