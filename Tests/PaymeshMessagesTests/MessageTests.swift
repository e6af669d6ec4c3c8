import PaymeshCrypto
import PaymeshMessages
import PaymeshMsgpack
import Testing

@Suite("Messages")
struct MessageTests {
    @Test func samplesCoverEveryType() {
        #expect(Set(Samples.all.map(\.type)) == Set(MessageType.allCases))
    }

    @Test func everyMessageRoundTrips() throws {
        for message in Samples.all {
            let frame = try PaymentFrame.encode(message)
            #expect(try decodeFrame(frame).get() == message, "\(message.type)")
            // And through msgpack values without framing.
            let bytes = try MsgpackEncoder.encode(Envelope.encode(message))
            #expect(try Envelope.decode(bytes) == message)
            #expect(Array(frame.dropFirst(4)) == bytes)
        }
    }

    @Test func unknownFieldsAreIgnoredAtEveryLevel() throws {
        for message in Samples.all {
            guard case .map(var data) = message.encodeData() else { Issue.record("not a map"); continue }
            data.insert(MsgpackPair(.string("zz_future"), .array([.float64(2.5), .nil])), at: 0)
            data.append(MsgpackPair(.uint(99), .map([MsgpackPair(.string("x"), .bool(true))])))
            let envelope = MsgpackValue.map([
                MsgpackPair(.string("data"), .map(data)),
                MsgpackPair(.string("trace"), .string("abc")),
                MsgpackPair(.string("type"), .uint(message.type.rawValue)),
                MsgpackPair(.string("v"), .uint(1)),
            ])
            #expect(try Envelope.decode(envelope) == message, "\(message.type)")
        }
    }

    @Test func everyRequiredFieldIsRequired() throws {
        for message in Samples.all {
            guard case .map(let data) = message.encodeData() else { continue }
            let optional: Set<String> = ["task_id", "counter_signature", "reason", "error_code", "ref_type"]
            for (i, pair) in data.enumerated() {
                guard case .string(let key) = pair.key else { continue }
                var fewer = data
                fewer.remove(at: i)
                let result = Result { () throws(MessageError) in try Message(type: message.type, fields: fewer) }
                let isOptional = optional.contains(key) && !(message.type == .negotiateReject && key == "reason")
                    && !(message.type == .htlcCancel && key == "reason")
                if isOptional {
                    #expect(throws: Never.self, "\(message.type).\(key)") { try result.get() }
                } else {
                    #expect(throws: MessageError.self, "\(message.type).\(key)") { try result.get() }
                    if case .failure(let e) = result {
                        #expect(e.code == .malformedMessage)
                        #expect(e.refType == message.type.rawValue)
                    }
                }
            }
        }
    }

    @Test func wrongTypedFieldsAreMalformed() throws {
        for message in Samples.all {
            guard case .map(let data) = message.encodeData() else { continue }
            for i in data.indices {
                var changed = data
                // A float never stands in for any Paymesh field.
                changed[i].value = .float64(1)
                #expect(throws: MessageError.self, "\(message.type) \(data[i].key)") {
                    try Message(type: message.type, fields: changed)
                }
            }
        }
    }

    @Test func duplicateKnownKeyIsMalformed() throws {
        guard case .map(var data) = Samples.all[1].encodeData() else { return }
        data.append(data[1])
        #expect(throws: MessageError.self) { try Message(type: .paymentUpdate, fields: data) }
    }

    @Test func unsupportedTypeAndVersionErrors() throws {
        let unknown = MsgpackValue.map([
            MsgpackPair(.string("v"), .uint(1)), MsgpackPair(.string("type"), .uint(14)),
            MsgpackPair(.string("data"), .map([])),
        ])
        do throws(MessageError) {
            _ = try Envelope.decode(unknown)
            Issue.record("decoded an unknown type")
        } catch {
            #expect(error.code == .unsupportedMessage)
            #expect(error.refType == 14)
            #expect(!error.closesStream)
            #expect(error.reply.code == .unsupportedMessage)
            #expect(error.reply.refType == 14)
            // The reply is itself a valid ERROR message.
            #expect(try decodeFrame(PaymentFrame.encode(.error(error.reply))).get() == .error(error.reply))
        }
        let v2 = MsgpackValue.map([
            MsgpackPair(.string("v"), .uint(2)), MsgpackPair(.string("type"), .uint(2)),
            MsgpackPair(.string("data"), .map([])),
        ])
        #expect(throws: MessageError(code: .unsupportedVersion, detail: "unsupported schema version 2", refType: 2)) {
            try Envelope.decode(v2)
        }
    }

    @Test func constructorsEnforceTheSameRules() {
        #expect(throws: MessageError.self) {
            try ChannelAnnounce(channelID: Samples.channel, peerA: Samples.bob, peerB: Samples.alice,
                                capacity: Amount(1), asset: Samples.usdc, feeBase: .zero, feePPM: 0,
                                expiryDeltaMillis: 1, timestamp: 0, signatureA: Samples.sigA, signatureB: Samples.sigB)
        }
        #expect(throws: MessageError.self) {
            try PaymentClose(channelID: Samples.channel, finalNonce: 1, finalAmount: .zero, cooperative: false,
                             timestamp: 0, signature: Samples.sigA, counterSignature: Samples.sigB)
        }
        #expect(throws: MessageError.self) {
            try HTLCPropose(channelID: Samples.channel, htlcID: Samples.htlc, paymentHash: try Hash32(Samples.bytes(1, 32)),
                            amount: Amount(1), expiry: 0, onion: Samples.bytes(0, 1301), nonce: 1, voucherAmount: Amount(1),
                            timestamp: 0, signature: Samples.sigA)
        }
        #expect(throws: MessageError.self) { try ErrorMessage(code: PaymeshErrorCode(rawValue: 2000), message: "") }
        #expect(throws: MessageError.self) { try ErrorMessage(code: .internalError, message: String(repeating: "é", count: 513)) }
        #expect(throws: MessageError.self) {
            try PaymentAck(channelID: Samples.channel, nonce: 1, status: .accepted, errorCode: .insufficientFunds)
        }
        #expect(throws: MessageError.self) { try Asset(id: "", decimals: 6) }
        #expect(throws: MessageError.self) { try EthereumAddress(Samples.bytes(0, 19)) }
    }

    @Test func signatureForm() throws {
        #expect(throws: MessageError.self) { try Signature65(Samples.bytes(0, 32) + Samples.bytes(1, 32) + [27]) } // r = 0
        #expect(throws: MessageError.self) { try Signature65(Samples.bytes(1, 32) + Samples.bytes(0, 32) + [27]) } // s = 0
        #expect(throws: MessageError.self) { try Signature65(Samples.bytes(1, 64) + [29]) }
        let halfOrder = try #require([UInt8](hex: "7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0"))
        #expect(try Signature65(Samples.bytes(1, 32) + halfOrder + [28]).v == 28)
        var above = halfOrder
        above[31] += 1
        #expect(throws: MessageError.self) { try Signature65(Samples.bytes(1, 32) + above + [28]) }
    }

    @Test func errorReplyClipsLongDetail() {
        let e = MessageError(code: .malformedMessage, detail: String(repeating: "ü", count: 2000))
        #expect(e.reply.message.utf8.count <= 1024)
    }
}
