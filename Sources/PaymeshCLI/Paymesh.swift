import ArgumentParser
import Foundation
import PaymeshNode

@main
struct Paymesh: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "paymesh",
        abstract: "A peer-to-peer payment node.",
        version: PaymeshNode.version,
        subcommands: [Start.self, Identity.self, Ctl.self, Console.self,
                      Mesh.self, Receipts.self])
}

/// `--data-dir`, defaulting to $PAYMESH_DATA_DIR, then ~/.paymesh.
struct DataDirOption: ParsableArguments {
    @Option(name: .customLong("data-dir"), help: "Data directory (env PAYMESH_DATA_DIR; default ~/.paymesh).")
    var dataDir: String?

    var resolved: String {
        DataDirectory.expand(dataDir ?? NodeOptions.environment(ProcessInfo.processInfo.environment).dataDir ?? NodeOptions.defaultDataDir)
    }

    var consoleSocketPath: String { NodeConfiguration.consoleSocketPath(dataDirectory: resolved) }
}

/// Writes to standard error (messages for people; stdout stays for results and the ready line).
func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Writes a line to standard output unbuffered (scripts wait for lines through pipes).
func printLine(_ text: String) {
    FileHandle.standardOutput.write(Data((text + "\n").utf8))
}
