import ArgumentParser
import PaymeshConsole
import PaymeshNode

struct Ctl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Calls one console method and prints the result.",
        discussion: """
        Parameters are key=value; a value that parses as JSON (42, true, null, "text", [..], {..}) is sent as \
        that JSON, anything else as a string; amounts may be atomic units (amount=1000000) or decimal values \
        (amount=1.5USDC). Exit status: 0 ok; 1 the node refused the call; 2 bad command line; 3 the node cannot \
        be reached; 4 a pay or stream.usage stopped early for lack of funds (or policy, or a stream cap); \
        5 stopped early, rate limited; 6 stopped early for another reason (the payee went away, timeout); 7 cancelled (Ctrl-C or pay.cancel). \
        A `pay` shows a progress line on a terminal (nothing when the output is piped); Ctrl-C cancels the \
        burst after the vouchers in flight and prints what was paid. \
        Errors go to standard error, or with --json as a JSON object {code, name, message} on standard output. \
        `ctl subscribe` prints events until interrupted.
        """)

    @Argument(help: "The method, e.g. getinfo, peers, ping, help.")
    var method: String
    @Argument(help: "Parameters as key=value.")
    var params: [String] = []
    @OptionGroup var dataDir: DataDirOption
    @Flag(help: "Print the raw JSON result.")
    var json = false

    func run() async throws {
        let parameters: [String: JSONValue]
        do {
            parameters = try ConsoleParams.parseCommand(method, params)
        } catch {
            fail(code: nil, name: "USAGE", message: "\(error)", status: .usage)
        }
        let format = OutputFormat(json: json)
        let method = self.method
        let outcome: Result<JSONValue, ConsoleProtocol.RemoteError>
        let socketPath = dataDir.consoleSocketPath
        do {
            outcome = try await ConsoleClient.withConnection(socketPath: socketPath) { client in
                if method == "pay", parameters["progress"] == nil {
                    return try await Self.payWithProgress(client, parameters, socketPath: socketPath)
                }
                let result = try await client.callResult(method, parameters)
                if case .success(let value) = result, method == "subscribe" {
                    printLine(format.render(method: method, result: value))
                    for await incoming in client.incoming {
                        if case .notification(_, let params) = incoming { printLine(format.renderEvent(params)) }
                    }
                }
                return result
            }
        } catch {
            fail(code: nil, name: "NODE_UNREACHABLE", message: "cannot reach the node: \(error)",
                 status: .unreachable)
        }
        switch outcome {
        case .success(let result):
            if method != "subscribe" { printLine(format.render(method: method, result: result)) }
            let status = ExitStatus.of(method: method, result: result)
            if status != .ok {
                if !json { printError("paymesh: \(method) stopped early: \(result["error"]?["message"]?.stringValue ?? "paid less than asked")") }
                throw status.exitCode
            }
        case .failure(let error):
            fail(code: error.code, name: error.name, message: error.message, status: .refused)
        }
    }

    /// `pay` with progress notifications: a progress line on a terminal, and Ctrl-C sends
    /// `pay.cancel` for the burst (on a second connection; a second Ctrl-C leaves at once, the
    /// node still finishes the cancel). The call then returns `complete: false` with -32050 CANCELLED.
    private static func payWithProgress(_ client: ConsoleClient, _ parameters: [String: JSONValue],
                                        socketPath: String) async throws -> Result<JSONValue, ConsoleProtocol.RemoteError> {
        var params = parameters
        params["progress"] = true
        let display = ProgressDisplay(noun: "payments acked")
        let burst = BurstCancel(socketPath: socketPath)
        burst.armSIGINT()
        defer { burst.disarm() }
        let result = try await PayProgressView.call(client, "pay", params) { progress in
            burst.started(progress["burst"]?.intValue)
            display.update(pay: progress)
        }
        display.finish()
        return result
    }

    /// Reports an error (text on standard error, or with --json a JSON object on standard output)
    /// and exits with `status`.
    private func fail(code: Int?, name: String?, message: String, status: ExitStatus) -> Never {
        if json {
            printLine(JSONValue.object(["code": code.map { .int(Int64($0)) } ?? .null, "name": JSONValue(name), "message": .string(message)]).description)
        } else {
            printError(status == .refused ? "error: \(message)\(name.map { " (\(code.map(String.init) ?? "") \($0))" } ?? "")" : "paymesh: \(message)")
        }
        Ctl.exit(withError: status.exitCode)
    }
}

enum ConsoleParams {
    struct BadParameter: Error, CustomStringConvertible {
        let text: String
        var description: String { "parameter \(text) is not key=value" }
    }

    /// Numbers JSON would carry inexactly go as text: digits past Int64 (an amount up to
    /// 2^128 − 1) and decimal values (`1.5`), never a lossy JSON double; the node converts them exactly.
    static func exactText(_ raw: String) -> Bool {
        let parts = raw.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), parts.allSatisfy({ !$0.isEmpty && $0.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } }) else {
            return false
        }
        return parts.count == 2 || Int64(raw) == nil
    }

    /// The parameters of `method`: `help pay` is `help method=pay`, else `parse`.
    static func parseCommand(_ method: String, _ items: [String]) throws -> [String: JSONValue] {
        if method == "help", items.count == 1, !items[0].contains("=") { return ["method": .string(items[0])] }
        return try parse(items)
    }

    static func parse(_ items: [String]) throws -> [String: JSONValue] {
        var params: [String: JSONValue] = [:]
        for item in items {
            guard let eq = item.firstIndex(of: "="), eq != item.startIndex else { throw BadParameter(text: item) }
            let key = String(item[..<eq]), raw = String(item[item.index(after: eq)...])
            params[key] = exactText(raw) ? .string(raw) : (try? JSONValue.parse(Array(raw.utf8))) ?? .string(raw)
        }
        return params
    }
}
