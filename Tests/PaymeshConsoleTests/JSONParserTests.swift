import Foundation
@testable import PaymeshConsole
import PaymeshNode
import Testing

/// The console's JSON parser (`JSONValue.parse`, RFC 8259), written by hand for the request and
/// answer path: it reads what `JSONDecoder` read, to the same values, and refuses with a parse error
/// (never a crash, never a partial value) what is not one JSON text — hostile input included.
@Suite struct JSONParserTests {
    /// The reference: `JSONDecoder` through `JSONValue`'s `Decodable` conformance (the former parser).
    static func reference(_ text: String) -> JSONValue? { try? JSONDecoder().decode(JSONValue.self, from: Data(text.utf8)) }

    static func parsed(_ text: String) -> JSONValue? { try? JSONValue.parse(Array(text.utf8)) }

    static let documents = [
        #"{"jsonrpc":"2.0","method":"pay","params":{"to":"0xAb5801a7D398351b8bE11C439e05C5B3259aeC9B","amount":"1000","asset":"USDC"},"id":7}"#,
        #"{"jsonrpc":"2.0","id":"abc","result":{"status":"succeeded","attempts":[{"route":{"hops":[{"fee":"12","expiry":1767225600000}]},"hop":null,"code":1403}],"preimage":"0x00"}}"#,
        #" [ 1 , -2 , 0 , -0 , 3.5 , -1.25e-3 , 1E+2 , 9223372036854775807 , -9223372036854775808 , 9223372036854775808 , 1e300 , true , false , null ] "#,
        #"{"a":"quote \" backslash \\ slash \/ controls \b\f\n\r\t unicode \u00e9 \u20AC \ud83d\ude00 raw é € 😀"}"#,
        #"{}"#, #"[]"#, #"[[[[{"x":[{}]}]]]]"#, #""just a string""#, #"42"#, #"null"#, "\t\r\n {\"k\" :\n[ ] }\n",
        #"{"dup":1,"dup":2}"#, // the first one, as JSONDecoder
    ]

    @Test func readsWhatJSONDecoderReadToTheSameValues() throws {
        for text in Self.documents {
            let ours = try JSONValue.parse(Array(text.utf8))
            #expect(ours == Self.reference(text), "\(text)")
        }
        // As JSONDecoder read them: an integral number that fits Int64 is an integer, whatever its form.
        #expect(Self.parsed(#"[9223372036854775807,9223372036854775808,1.0,1e2,0.5]"#)
                == .array([.int(.max), .double(9223372036854775808), .int(1), .int(100), .double(0.5)]))
    }

    static let refused = [
        "", " ", "{", "}", "[", "]", "[1,]", "{\"a\":1,}", "{\"a\"}", "{\"a\" 1}", "{1:2}", "[1 2]", "nul", "tru", "falsey", "NaN", "Infinity",
        "-Infinity", "01", "-01", "-", "1.", ".5", "1e", "1e+", "+1", "0x10", "1 2", "{} {}", "[] x", "\"unterminated", "\"bad \\x escape\"",
        "\"\\u12\"", "\"\\u12G4\"", "\"\\ud83d\"", "\"\\ude00\"", "\"\\ud83d\\u0041\"", "\"raw \u{1} control\"", "\"tab\tinside\"", "1e400",
        "[\"a\"\"b\"]", "{\"a\":1\"b\":2}", "\u{feff}{}", "'single'", "[,1]", "{,}",
    ]

    @Test func refusesWhatIsNotOneJSONText() {
        for text in Self.refused {
            #expect(Self.parsed(text) == nil, "accepted \(text.debugDescription)")
        }
    }

    @Test func refusesDeepNestingAndInvalidUTF8WithAParseError() {
        for open in ["[", "{\"a\":"] {
            let deep = String(repeating: open, count: 100_000)
            do { _ = try JSONValue.parse(Array(deep.utf8)); Issue.record("accepted 100,000 levels") } catch {
                #expect(error.consoleCode == NodeError.parseError("").consoleCode)
            }
        }
        // 512 levels are read (JSONDecoder's limit), one more is not.
        let deepest = String(repeating: "[", count: JSONValue.maxDepth) + String(repeating: "]", count: JSONValue.maxDepth)
        #expect(Self.parsed(deepest) != nil)
        #expect(Self.parsed("[" + deepest + "]") == nil)
        #expect((try? JSONValue.parse([0x22, 0xff, 0xfe, 0x22])) == nil)
    }

    /// Every prefix of a valid text but the whole one is refused, and every byte flip of it is either
    /// refused or read as JSONDecoder reads it (which also took a trailing comma or a byte-order mark,
    /// refused here as RFC 8259 says).
    @Test func everyPrefixAndByteFlipIsHandled() {
        let text = Array(Self.documents[1].utf8)
        for n in 0..<text.count { #expect((try? JSONValue.parse(text[..<n])) == nil, "prefix of \(n) bytes") }
        for i in text.indices {
            for flip: UInt8 in [0x01, 0x20, 0x40, 0x80] {
                var bytes = text
                bytes[i] ^= flip
                guard let s = String(validating: bytes, as: UTF8.self) else { continue }
                if let ours = Self.parsed(s) { #expect(ours == Self.reference(s), "byte \(i) ^ \(flip): \(s)") }
            }
        }
    }
}
