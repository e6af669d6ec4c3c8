import ArgumentParser
import PaymeshConsole
import PaymeshNode

struct Identity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Prints the node's peer id (creating the key if absent) and, if it runs, its listen addresses.",
        discussion: "Output: the id on the first line, then one `listen=<host:port>` line per address when the node runs.")

    @OptionGroup var dataDir: DataDirOption

    func run() async throws {
        let key: (id: String, created: Bool)
        do {
            let loaded = try IdentityStore(directory: dataDir.resolved).loadOrCreate()
            key = (loaded.key.address.description, loaded.created)
        } catch {
            printError("paymesh: \(error)")
            throw ExitCode(1)
        }
        printLine(key.id)
        if key.created { printError("created a new identity in \(dataDir.resolved)") }
        let info = try? await ConsoleClient.withConnection(socketPath: dataDir.consoleSocketPath) { try await $0.call("getinfo") }
        if let listen = info?["listen"]?.arrayValue {
            for address in listen.compactMap(\.stringValue) { printLine("listen=\(address)") }
        } else {
            printError("the node is not running")
        }
    }
}
