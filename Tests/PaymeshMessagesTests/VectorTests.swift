import PaymeshCrypto
import PaymeshMessages
import PaymeshMsgpack
import Testing

@Suite("Specs/vectors/messages.json")
struct VectorTests {
    let file: MessageVectorFile

    init() throws { file = try MessageVectorFile.load() }

    @Test func coversAllThirteenTypes() {
        #expect(Set(file.valid.map(\.type)) == Set(MessageType.allCases.map(\.rawValue)))
        #expect(file.schema_version == Envelope.schemaVersion)
        #expect(file.invalid.count >= 20)
    }

    @Test func validFramesDecodeToTheirFieldsAndEncodeToTheirBytes() throws {
        for v in file.valid {
            let type = try #require(MessageType(rawValue: v.type))
            #expect(type.name == v.name)
            let expected = try Message(type: type, fields: try msgpackFields(v.fields))
            let frame = try hexBytes(v.frame_hex)
            // Python-encoded bytes → the typed value built from the JSON fields.
            #expect(try decodeFrame(frame).get() == expected, "\(v.name)")
            // The typed value → exactly Python's bytes.
            #expect(try PaymentFrame.encode(expected) == frame, "\(v.name)")
        }
    }

    @Test func toleratedFramesDecodeAndReencodeCanonically() throws {
        for v in file.tolerated {
            let type = try #require(MessageType(rawValue: v.type))
            let expected = try Message(type: type, fields: try msgpackFields(v.fields))
            let decoded = try decodeFrame(try hexBytes(v.frame_hex)).get()
            #expect(decoded == expected, "\(v.description)")
            #expect(try PaymentFrame.encode(decoded) == (try hexBytes(v.canonical_frame_hex)), "\(v.description)")
        }
    }

    @Test func invalidFramesAnswerTheirErrorCode() throws {
        for v in file.invalid {
            switch decodeFrame(try hexBytes(v.frame_hex)) {
            case .success(let m):
                Issue.record("\(v.description): decoded to \(m.type)")
            case .failure(let error):
                #expect(error.code.rawValue == v.expected_error_code, "\(v.description): \(error)")
            }
        }
    }

    @Test func invalidFramesDripFedGiveTheSameCode() throws {
        for v in file.invalid {
            var codec = PaymentStreamCodec()
            var code: UInt16?
            outer: for byte in try hexBytes(v.frame_hex) {
                codec.feed([byte])
                do throws(MessageError) {
                    if try codec.nextMessage() != nil { break outer }
                } catch {
                    code = error.code.rawValue
                    break outer
                }
            }
            #expect(code == v.expected_error_code, "\(v.description)")
        }
    }
}
