public import PaymeshCrypto
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The node's identity key file, `<datadir>/identity.key`: 64 lowercase hex digits of the
/// secp256k1 secret and a newline, mode 0600, owned by the user running the node.
///
/// Created on first start through a temporary file (O_CREAT|O_EXCL, 0600), fsync, a no-clobber
/// publish (`link`, atomic like `rename` but never replaces a key another process created
/// meanwhile) and an fsync of the directory. A file readable by group or others, not a regular
/// file, owned by someone else, or not exactly one valid key is refused with a clear error.
/// Every buffer that held the secret is wiped with `secureZero` after use.
public struct IdentityStore: Sendable {
    public static let fileName = "identity.key"
    static let hexDigits = 64 // 32-byte secp256k1 secret
    static let maxFileSize = 128 // anything larger is not a key file

    public let directory: String
    public var path: String { directory + "/" + Self.fileName }

    public init(directory: String) {
        self.directory = directory
    }

    /// Loads the key, creating it (and the data directory, mode 0700) if absent.
    public func loadOrCreate() throws(NodeError) -> (key: IdentityKey, created: Bool) {
        try DataDirectory.ensurePrivate(directory)
        if !fileExists(path) {
            let created: Result<IdentityKey, NodeError> = Result { () throws(NodeError) in try create() }
            switch created {
            case .success(let key): return (key, true)
            case .failure(let error): if !fileExists(path) { throw error } // else: another process won the race
            }
        }
        return (try load(), false)
    }

    /// Loads an existing key file, refusing insecure or malformed files.
    public func load() throws(NodeError) -> IdentityKey {
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else { throw .identityFile("cannot open \(path): \(errnoText())") }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw .identityFile("cannot stat \(path): \(errnoText())") }
        guard info.st_mode & S_IFMT == S_IFREG else { throw .identityFile("\(path) is not a regular file") }
        guard info.st_uid == geteuid() else { throw .identityFile("\(path) is owned by uid \(info.st_uid), not by this user") }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw .identityFile("\(path) has mode \(String(mode, radix: 8)): it must not be readable by group or others (chmod 600 \(path))")
        }
        var buffer = [UInt8](repeating: 0, count: Self.maxFileSize + 1)
        defer { buffer.withUnsafeMutableBytes { secureZero($0) } }
        var length = 0
        while length < buffer.count {
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + length, $0.count - length) }
            if n < 0 && errno == EINTR { continue }
            guard n >= 0 else { throw .identityFile("cannot read \(path): \(errnoText())") }
            if n == 0 { break }
            length += n
        }
        return try Self.decode(buffer[..<length], path: path)
    }

    /// Parses the file content; wipes its own scratch buffer.
    static func decode(_ content: ArraySlice<UInt8>, path: String) throws(NodeError) -> IdentityKey {
        var text = content
        if text.last == UInt8(ascii: "\n") { text = text.dropLast() }
        guard text.count == hexDigits else {
            throw .identityFile("\(path) is malformed: expected \(hexDigits) hex digits, found \(text.count) bytes")
        }
        var secret = [UInt8](repeating: 0, count: hexDigits / 2)
        defer { secret.withUnsafeMutableBytes { secureZero($0) } }
        for i in 0..<secret.count {
            guard let hi = nibble(text[text.startIndex + 2 * i]), let lo = nibble(text[text.startIndex + 2 * i + 1]) else {
                throw .identityFile("\(path) is malformed: not hexadecimal")
            }
            secret[i] = hi << 4 | lo
        }
        do {
            return IdentityKey(privateKey: try Secp256k1.PrivateKey(rawRepresentation: secret))
        } catch {
            throw .identityFile("\(path) is malformed: \(error)")
        }
    }

    private func create() throws(NodeError) -> IdentityKey {
        let key = IdentityKey.generate()
        var content = [UInt8](repeating: UInt8(ascii: "\n"), count: Self.hexDigits + 1)
        defer { content.withUnsafeMutableBytes { secureZero($0) } }
        key.privateKey.withUnsafeRawRepresentation { raw in
            let digits = Array("0123456789abcdef".utf8)
            for (i, byte) in raw.enumerated() {
                content[2 * i] = digits[Int(byte >> 4)]
                content[2 * i + 1] = digits[Int(byte & 0x0f)]
            }
        }
        let temporary = "\(path).tmp-\(getpid())"
        unlink(temporary) // left by a crash of this same pid number: never a key in use
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .identityFile("cannot create \(temporary): \(errnoText())") }
        defer { unlink(temporary) }
        do {
            defer { close(fd) }
            var written = 0
            while written < content.count {
                let n = content.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { throw NodeError.identityFile("cannot write \(temporary): \(errnoText())") }
                written += n
            }
            guard fchmod(fd, 0o600) == 0, fsync(fd) == 0 else {
                throw NodeError.identityFile("cannot sync \(temporary): \(errnoText())")
            }
        }
        guard link(temporary, path) == 0 else { throw .identityFile("cannot publish \(path): \(errnoText())") }
        DataDirectory.syncDirectory(directory)
        return key
    }

    private func fileExists(_ path: String) -> Bool {
        var info = stat()
        return lstat(path, &info) == 0
    }
}

private func nibble(_ c: UInt8) -> UInt8? {
    switch c {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): c - UInt8(ascii: "A") + 10
    default: nil
    }
}

/// `errno` (or `code`) in words, for error messages.
public func errnoText(_ code: Int32 = errno) -> String {
    String(cString: strerror(code))
}
