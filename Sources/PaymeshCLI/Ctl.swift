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
        5 stopped early, rate limited; 6 stopped early for another reason (the payee went away, timeout). \
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
            parameters = try ConsoleParams.parse(params)
        } catch {
            fail(code: nil, name: "USAGE", message: "\(error)", status: .usage)
        }
        let format = OutputFormat(json: json)
        let method = self.method
        let outcome: Result<JSONValue, ConsoleProtocol.RemoteError>
        do {
            outcome = try await ConsoleClient.withConnection(socketPath: dataDir.consoleSocketPath) { client in
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
