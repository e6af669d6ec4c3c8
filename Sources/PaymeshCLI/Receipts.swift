import ArgumentParser
import Foundation
import PaymeshChannels
import PaymeshCrypto
import PaymeshMessages

/// `paymesh receipts verify <file>`: checks an exported receipt bundle offline (Specs/channels.md §10.4).
struct Receipts: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Works with exported payment receipts.",
        subcommands: [Verify.self])

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Checks the signatures and hash links of a receipts JSON file (`paymesh ctl receipts channel=… --json`).",
            discussion: "Exit status 0 when every receipt verifies, 1 at the first bad receipt, 2 when the file cannot be read.")

        @Argument(help: "The receipts JSON file (format paymesh-receipts/1); - reads standard input.")
        var file: String
        @Option(help: "Also require this payee address (0x…).")
        var payee: String?

        func run() async throws {
            let data: Data
            if file == "-" {
                data = FileHandle.standardInput.readDataToEndOfFile()
            } else {
                guard let d = FileManager.default.contents(atPath: file) else {
                    printError("paymesh: cannot read \(file)")
                    throw ExitCode(2)
                }
                data = d
            }
            let bundle: ReceiptBundle
            do {
                bundle = try ReceiptBundle.decode(json: data)
            } catch {
                printError("paymesh: \(file) is not a receipts bundle: \(error)")
                throw ExitCode(2)
            }
            var expected: EthereumAddress?
            if let payee {
                guard let id = EthereumAddress(string: payee) else {
                    printError("paymesh: --payee is not an address")
                    throw ExitCode(2)
                }
                expected = id
            }
            do {
                let n = try ReceiptVerifier.verify(bundle, expectedPayee: expected)
                let last = bundle.receipts.last, asset = try? Asset(id: bundle.asset, decimals: bundle.decimals)
                func human(_ amount: String) -> String {
                    guard let asset, let a = try? Amount(decimal: amount) else { return "\(amount) atomic units of \(bundle.asset)" }
                    return a.formatted(asset)
                }
                printLine("ok: \(n) receipts of channel \(bundle.channelID) signed by payee \(bundle.payee)"
                          + (last.map { "; latest nonce \($0.nonce), cumulative amount \(human(String($0.amount)))" } ?? ""))
            } catch {
                printError("invalid: \(error)")
                throw ExitCode(1)
            }
        }
    }
}
