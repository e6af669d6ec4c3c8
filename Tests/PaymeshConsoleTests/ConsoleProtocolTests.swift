import PaymeshMessages
import PaymeshConsole
import PaymeshNode
import Testing

/// The console codec without sockets: framing, the JSON-RPC envelope, dispatch and errors.
@Suite struct ConsoleProtocolTests {
    func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }

    func failure(_ line: [UInt8]) -> ConsoleProtocol.Failure? {
        if case .failure(let f) = ConsoleProtocol.parse(line: line) { f } else { nil }
    }

    // MARK: Framing

    @Test func framerSplitsLinesDropsCRAndSkipsBlankLines() {
        var f = ConsoleLineFramer()
        #expect(f.append(bytes("one\r\n\n two\nthr")) == [.line(bytes("one")), .line(bytes(" two"))])
        #expect(f.bufferedBytes == 3)
        #expect(f.append(bytes("ee\n")) == [.line(bytes("three"))])
    }

    @Test func framerGivesTheSameLinesWhenFedOneByteAtATime() {
        let input = bytes("{\"a\":1}\n\r\n{\"b\":[1,2,3]}\r\nlast\n")
        var whole = ConsoleLineFramer(), drip = ConsoleLineFramer()
        let expected = whole.append(input)
        var dripped: [ConsoleLineFramer.Event] = []
        for b in input { dripped += drip.append([b]) }
        #expect(dripped == expected)
        #expect(expected.count == 3)
    }

    @Test func anOverlongLineIsReportedOnceAndTheNextLineStillParses() {
        var f = ConsoleLineFramer(maxLineBytes: 16)
        var events = f.append(bytes(String(repeating: "x", count: 10)))
        events += f.append(bytes(String(repeating: "y", count: 100)))
        events += f.append(bytes(String(repeating: "z", count: 100) + "\nok\n"))
        #expect(events == [.overlong, .line(bytes("ok"))])
        #expect(f.bufferedBytes == 0, "the excess is never buffered")
        var exact = ConsoleLineFramer(maxLineBytes: 4)
        #expect(exact.append(bytes("abcd\r\nabcde\n")) == [.line(bytes("abcd")), .overlong])
    }

    // MARK: Requests

    @Test func validRequestsWithEveryKindOfID() throws {
        let r = try ConsoleProtocol.parse(line: bytes(#"{"jsonrpc":"2.0","method":"ping","params":{"id":"0xab"},"id":7}"#)).get()
        #expect(r == ConsoleProtocol.Request(method: "ping", params: ["id": "0xab"], id: .int(7)))
        #expect(try ConsoleProtocol.parse(line: bytes(#"{"jsonrpc":"2.0","method":"getinfo","id":"abc"}"#)).get().id == .string("abc"))
        #expect(try ConsoleProtocol.parse(line: bytes(#"{"jsonrpc":"2.0","method":"getinfo","id":null}"#)).get().id == .null)
        #expect(try ConsoleProtocol.parse(line: bytes(#"{"jsonrpc":"2.0","method":"getinfo","params":[]}"#)).get()
            == ConsoleProtocol.Request(method: "getinfo", id: nil), "no id: a notification")
    }

    @Test(arguments: [
        "not json", "{\"jsonrpc\":\"2.0\",", "{'jsonrpc':'2.0'}", "{\"a\":1}}", "",
    ])
    func malformedJSONIsAParseError(line: String) throws {
        let f = try #require(failure(bytes(line)))
        #expect(f.error.consoleCode == -32700 && f.error.name == "PARSE_ERROR" && f.id == .null)
    }

    @Test func nonUTF8IsAParseError() throws {
        let f = try #require(failure([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))
        #expect(f.error.consoleCode == -32700)
        #expect(f.error.detail.contains("UTF-8"))
    }

    @Test(arguments: [
        (#"[{"jsonrpc":"2.0","method":"getinfo","id":1}]"#, ConsoleProtocol.RequestID.null),
        ("42", .null),
        (#"{"method":"getinfo","id":3}"#, .int(3)),
        (#"{"jsonrpc":"1.0","method":"getinfo","id":3}"#, .int(3)),
        (#"{"jsonrpc":"2.0","method":5,"id":"x"}"#, .string("x")),
        (#"{"jsonrpc":"2.0","method":"","id":"x"}"#, .string("x")),
        (#"{"jsonrpc":"2.0","method":"getinfo","params":"x","id":4}"#, .int(4)),
        (#"{"jsonrpc":"2.0","method":"getinfo","id":{"a":1}}"#, .null),
        (#"{"jsonrpc":"2.0","method":"getinfo","id":1,"extra":true}"#, .int(1)),
    ])
    func invalidRequestsKeepTheIDWhenItIsKnown(line: String, id: ConsoleProtocol.RequestID) throws {
        let f = try #require(failure(bytes(line)))
        #expect(f.error.consoleCode == -32600 && f.error.name == "INVALID_REQUEST", "\(f.error)")
        #expect(f.id == id)
    }

    @Test func positionalParamsAreInvalidParams() throws {
        let f = try #require(failure(bytes(#"{"jsonrpc":"2.0","method":"ping","params":["0xab"],"id":1}"#)))
        #expect(f.error.consoleCode == -32602 && f.id == .int(1))
    }

    // MARK: Encoding

    @Test func responsesAreOneLineOfJSONWithSortedKeysAndEscapes() throws {
        let line = ConsoleProtocol.encodeResult(["text": "a\"b\\c\nd\u{01}é", "n": 3, "list": [true, nil, 1.5]], id: .int(9))
        #expect(!line.contains("\n"))
        #expect(line == #"{"id":9,"jsonrpc":"2.0","result":{"list":[true,null,1.5],"n":3,"text":"a\"b\\c\nd\u0001é"}}"#)
        let back = try ConsoleProtocol.parseIncoming(line: bytes(line))
        #expect(back == .response(id: .int(9), .success(["text": "a\"b\\c\nd\u{01}é", "n": 3, "list": [true, nil, 1.5]])))
    }

    @Test func errorsCarryThePaymeshCodeAndName() throws {
        let line = ConsoleProtocol.encodeError(.peerBanned("0xab is banned"), id: .string("q"))
        #expect(line == #"{"error":{"code":1202,"data":{"name":"PEER_BLACKLISTED"},"message":"0xab is banned"},"id":"q","jsonrpc":"2.0"}"#)
        guard case .response(.string("q"), .failure(let e)) = try ConsoleProtocol.parseIncoming(line: bytes(line)) else {
            Issue.record("not an error response")
            return
        }
        #expect(e.code == 1202 && e.name == "PEER_BLACKLISTED" && e.message == "0xab is banned")
        #expect(NodeError.internalError("x").consoleCode == 1502)
        #expect(NodeError.rateLimited("x").consoleCode == 1504)
        #expect(NodeError.identityNotVerified("x").consoleCode == 1201)
    }

    @Test func aPaymeshErrorTakesItsNameFromItsCode() {
        let limit = NodeError.paymesh(.channelLimitExceeded, "too many")
        #expect(limit.consoleCode == 1005 && limit.name == "CHANNEL_LIMIT_EXCEEDED" && limit.paymeshCode == .channelLimitExceeded)
        #expect(ConsoleProtocol.encodeError(.paymesh(.channelNotFound, "no channel"), id: .int(1))
            == #"{"error":{"code":1000,"data":{"name":"CHANNEL_NOT_FOUND"},"message":"no channel"},"id":1,"jsonrpc":"2.0"}"#)
        let unknown = NodeError.paymesh(PaymeshErrorCode(rawValue: 1999), "newer peer")
        #expect(unknown.consoleCode == 1999 && unknown.name == "UNKNOWN_ERROR")
        #expect(NodeError.internalError("x").name == "INTERNAL_ERROR" && NodeError.internalError("x").paymeshCode == .internalError)
        #expect(NodeError.invalidParams("x").paymeshCode == nil && NodeError.invalidParams("x").name == "INVALID_PARAMS")
    }

    @Test func notificationsHaveNoID() throws {
        let line = ConsoleProtocol.encodeNotification(method: "event", params: ["type": "peer.up"])
        #expect(line == #"{"jsonrpc":"2.0","method":"event","params":{"type":"peer.up"}}"#)
        #expect(try ConsoleProtocol.parseIncoming(line: bytes(line)) == .notification(method: "event", params: ["type": "peer.up"]))
    }

    // MARK: Dispatch through the registry

    func registry() -> ConsoleRegistry {
        let r = ConsoleRegistry()
        r.register(ConsoleMethod("echo", summary: "echo", params: [
            ConsoleParam("text", .string, "text"), ConsoleParam("times", .integer, required: false, "repeat"),
        ], result: "{text}") { call in
            .string(String(repeating: try call.requireString("text"), count: Int(call.int("times") ?? 1)))
        })
        r.register(ConsoleMethod("banned", summary: "", result: "") { _ in throw NodeError.peerBanned("nope") })
        r.register(ConsoleMethod("broken", summary: "", result: "") { _ in throw CancellationError() })
        return r
    }

    func call(_ r: ConsoleRegistry, _ line: String) async throws -> ConsoleProtocol.Incoming? {
        let request = try ConsoleProtocol.parse(line: bytes(line)).get()
        guard let response = await r.handle(request, session: ConsoleSession { _ in }) else { return nil }
        return try ConsoleProtocol.parseIncoming(line: bytes(response))
    }

    func errorCode(_ incoming: ConsoleProtocol.Incoming?) -> Int? {
        if case .response(_, .failure(let e))? = incoming { e.code } else { nil }
    }

    @Test func dispatchRunsHandlersAndChecksParams() async throws {
        let r = registry()
        #expect(try await call(r, #"{"jsonrpc":"2.0","method":"echo","params":{"text":"ab","times":2},"id":1}"#)
            == .response(id: .int(1), .success("abab")))
        #expect(try await call(r, #"{"jsonrpc":"2.0","method":"echo","params":{"text":"ab","times":2.0},"id":1}"#)
            == .response(id: .int(1), .success("abab")), "2.0 is an integer")
        #expect(errorCode(try await call(r, #"{"jsonrpc":"2.0","method":"nope","id":1}"#)) == -32601)
        #expect(errorCode(try await call(r, #"{"jsonrpc":"2.0","method":"echo","id":1}"#)) == -32602, "missing required")
        #expect(errorCode(try await call(r, #"{"jsonrpc":"2.0","method":"echo","params":{"text":true},"id":1}"#)) == -32602, "wrong type")
        #expect(errorCode(try await call(r, #"{"jsonrpc":"2.0","method":"echo","params":{"text":1.5},"id":1}"#)) == -32602, "a fraction is not text")
        #expect(try await call(r, #"{"jsonrpc":"2.0","method":"echo","params":{"text":42},"id":1}"#)
            == .response(id: .int(1), .success("42")), "an integer where text is expected is its decimal text")
        #expect(errorCode(try await call(r, #"{"jsonrpc":"2.0","method":"echo","params":{"text":"a","times":1.5},"id":1}"#)) == -32602)
        #expect(errorCode(try await call(r, #"{"jsonrpc":"2.0","method":"echo","params":{"text":"a","x":1},"id":1}"#)) == -32602, "unknown")
        #expect(errorCode(try await call(r, #"{"jsonrpc":"2.0","method":"banned","id":1}"#)) == 1202)
        #expect(errorCode(try await call(r, #"{"jsonrpc":"2.0","method":"broken","id":1}"#)) == 1502)
        #expect(try await call(r, #"{"jsonrpc":"2.0","method":"echo","params":{"text":"a"}}"#) == nil, "notifications get no response")
    }

    @Test func helpEntriesDescribeParams() {
        let entry = registry().method(named: "echo")!.helpEntry
        #expect(entry["params"]?.arrayValue?.count == 2)
        #expect(entry["params"]?.arrayValue?.first?["required"] == true)
        #expect(entry["params"]?.arrayValue?.last?["type"] == "integer")
    }
}
