import Foundation
import PaymeshCrypto
import PaymeshNode
import Testing

@Suite struct IdentityStoreTests {
    func mode(_ path: String) -> Int {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? -1
    }

    @Test func theKeyIsCreatedOwnerOnlyAndReused() throws {
        let base = temporaryDirectory()
        let dir = base + "/nested/data"
        defer { removeDirectory(base) }
        let store = IdentityStore(directory: dir)
        let first = try store.loadOrCreate()
        #expect(first.created)
        #expect(mode(store.path) == 0o600)
        #expect(mode(dir) == 0o700)
        let content = try #require(FileManager.default.contents(atPath: store.path))
        #expect(content.count == 65 && content.last == UInt8(ascii: "\n"))
        let second = try store.loadOrCreate()
        #expect(!second.created)
        #expect(second.key.address == first.key.address)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["identity.key"], "no temporary file left")
    }

    @Test func aKeyReadableByOthersIsRefused() throws {
        let dir = temporaryDirectory()
        defer { removeDirectory(dir) }
        let store = IdentityStore(directory: dir)
        _ = try store.loadOrCreate()
        chmod(store.path, 0o644)
        #expect { try store.loadOrCreate() } throws: { error in
            guard let e = error as? NodeError else { return false }
            return e.isIdentityFileError && e.detail.contains("644") && e.detail.contains("chmod 600")
        }
        chmod(store.path, 0o640)
        #expect(throws: NodeError.self) { try store.load() }
        chmod(store.path, 0o400)
        #expect(throws: Never.self) { try store.load() }
    }

    @Test(arguments: [
        "", "abc\n", String(repeating: "0", count: 64) + "\n", String(repeating: "g", count: 64),
        String(repeating: "f", count: 64) + "\n", String(repeating: "1", count: 66), String(repeating: "1", count: 64) + "\n\n",
    ])
    func malformedKeyFilesAreRefused(content: String) throws {
        let dir = temporaryDirectory()
        defer { removeDirectory(dir) }
        let store = IdentityStore(directory: dir)
        FileManager.default.createFile(atPath: store.path, contents: Data(content.utf8), attributes: [.posixPermissions: 0o600])
        #expect { try store.loadOrCreate() } throws: { ($0 as? NodeError)?.detail.contains("malformed") == true }
        #expect(FileManager.default.contents(atPath: store.path) == Data(content.utf8), "a bad key file is never overwritten")
    }

    @Test func aKnownKeyLoadsToItsAddress() throws {
        let dir = temporaryDirectory()
        defer { removeDirectory(dir) }
        let store = IdentityStore(directory: dir)
        // Private key 1: the generator point's address.
        let hex = String(repeating: "0", count: 63) + "1\n"
        FileManager.default.createFile(atPath: store.path, contents: Data(hex.utf8), attributes: [.posixPermissions: 0o600])
        #expect(try store.load().address == EthereumAddress(string: "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf"))
    }

    @Test func aSymlinkIsRefused() throws {
        let dir = temporaryDirectory()
        defer { removeDirectory(dir) }
        let store = IdentityStore(directory: dir)
        let real = IdentityStore(directory: temporaryDirectory())
        defer { removeDirectory(real.directory) }
        _ = try real.loadOrCreate()
        try FileManager.default.createSymbolicLink(atPath: store.path, withDestinationPath: real.path)
        #expect(throws: NodeError.self) { try store.loadOrCreate() }
    }
}
