import PaymeshTestSupport
import Testing
@testable import PaymeshDiscovery

@Suite struct TXTRecordTests {
    private func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func encodeSortsLowercasesAndRoundTrips() throws {
        let encoded = try TXTRecord.encode(["v": "paymesh/1", "ID": "0xabc", "k": "a=b"])
        #expect(encoded == [bytes("id=0xabc"), bytes("k=a=b"), bytes("v=paymesh/1")])
        #expect(TXTRecord.parse(encoded) == ["id": "0xabc", "k": "a=b", "v": "paymesh/1"])
    }

    @Test func encodeRejectsBadKeys() {
        #expect(throws: DiscoveryError.invalidTXTKey("")) { try TXTRecord.encode(["": "x"]) }
        #expect(throws: DiscoveryError.invalidTXTKey("a=b")) { try TXTRecord.encode(["a=b": "x"]) }
        #expect(throws: DiscoveryError.invalidTXTKey("tenletters")) { try TXTRecord.encode(["tenletters": "x"]) }
        #expect(throws: DiscoveryError.invalidTXTKey("k\u{7}")) { try TXTRecord.encode(["k\u{7}": "x"]) }
        #expect(throws: DiscoveryError.invalidTXTKey("ké")) { try TXTRecord.encode(["ké": "x"]) }
        #expect(throws: (any Error).self) { try TXTRecord.encode(["Key": "1", "key": "2"]) }
    }

    @Test func encodeEnforcesLengthLimits() throws {
        _ = try TXTRecord.encode(["k": String(repeating: "x", count: 253)])  // 2 + 253 = 255
        #expect(throws: DiscoveryError.txtEntryTooLong(key: "k", length: 256)) {
            try TXTRecord.encode(["k": String(repeating: "x", count: 254)])
        }
        var many: [String: String] = [:]
        for i in 0..<6 { many["k\(i)"] = String(repeating: "x", count: 250) }  // 6 × 254 > 1300
        #expect(throws: DiscoveryError.txtTooLong(6 * 254)) { try TXTRecord.encode(many) }
    }

    @Test func parseSkipsMalformedEntries() {
        let parsed = TXTRecord.parse([
            [],                                  // empty string: no attribute
            bytes("=novalue"),                   // empty key
            bytes("flag"),                       // boolean attribute
            bytes("K=first"), bytes("k=second"), // first occurrence wins, case-insensitive
            bytes("bad\u{1}key=1"),              // control character in key
            [0xC3, 0xA9] + bytes("=1"),          // non-ASCII key
            bytes("utf=") + [0xFF, 0xFE],        // value not UTF-8
            bytes("emoji=💸"),
            bytes("eq=a=b="),
            Array(repeating: UInt8(ascii: "x"), count: 256),  // over 255 bytes
        ])
        #expect(parsed == ["flag": "", "k": "first", "emoji": "💸", "eq": "a=b="])
    }

    @Test func parseCapsTheNumberOfAttributes() {
        let strings = (0..<1000).map { Array("k\($0)=v".utf8) }
        #expect(TXTRecord.parse(strings).count == TXTRecord.maxParsedEntries)
    }

    @Test func parseNeverCrashesOnRandomBytes() {
        var rng = SplitMix64(seed: 0x5EED)
        for _ in 0..<2000 {
            let count = Int(rng.next() % 8)
            let strings = (0..<count).map { _ in
                (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            }
            let parsed = TXTRecord.parse(strings)
            #expect(parsed.count <= count)
            for key in parsed.keys { #expect(TXTRecord.isValidKey(Array(key.utf8))) }
        }
    }

    @Test func peerIDFormat() {
        #expect(PaymeshTXT.isWellFormedPeerID("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"))
        #expect(PaymeshTXT.isWellFormedPeerID("0x" + String(repeating: "0", count: 40)))
        #expect(!PaymeshTXT.isWellFormedPeerID("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"))
        #expect(!PaymeshTXT.isWellFormedPeerID("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAe"))
        #expect(!PaymeshTXT.isWellFormedPeerID("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeg"))
        #expect(!PaymeshTXT.isWellFormedPeerID(""))
    }

    @Test func attributesAlwaysCarryOurIDAndVersion() throws {
        let id = "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"
        let attributes = try PaymeshTXT.attributes(peerID: id, extra: ["ID": "0xevil", "v": "other", "role": "hub"])
        #expect(attributes == ["id": id, "v": "paymesh/1", "role": "hub"])
        #expect(throws: DiscoveryError.invalidPeerID("nope")) { try PaymeshTXT.attributes(peerID: "nope", extra: [:]) }
    }
}

