import Foundation
import PaymeshCrypto
import PaymeshNode

/// A mock clock's instant: an offset from an arbitrary origin.
struct TestInstant: InstantProtocol, CustomStringConvertible {
    var offset: Duration
    static let zero = TestInstant(offset: .zero)
    func advanced(by d: Duration) -> TestInstant { TestInstant(offset: offset + d) }
    func duration(to other: TestInstant) -> Duration { other.offset - offset }
    static func < (a: Self, b: Self) -> Bool { a.offset < b.offset }
    var description: String { "t+\(offset)" }
}

func at(_ seconds: Double) -> TestInstant { TestInstant(offset: .seconds(seconds)) }

/// Returns the same 64-bit value every time: 0 makes `Double.random(in: 0..<1)` return 0 (no
/// jitter: the delay is the ceiling), `.max` makes it return the top of the range.
struct FixedRandom: RandomNumberGenerator {
    var value: UInt64 = 0
    mutating func next() -> UInt64 { value }
}

func address(_ lastByte: UInt8) -> EthereumAddress {
    try! EthereumAddress(rawRepresentation: [UInt8](repeating: 0, count: 19) + [lastByte])
}

typealias Table = PeerTable<TestInstant>
typealias Action = PeerAction<TestInstant>

/// A fresh temporary directory with a short path (Unix socket paths are limited to 108 bytes).
func temporaryDirectory() -> String {
    let path = "/tmp/pmt-\(UUID().uuidString.prefix(8))"
    // Explicit mode: an in-process node binding its console socket narrows the process-wide umask
    // for an instant (ConsoleSocketFile), which must not leave a test directory untraversable.
    try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false, attributes: [.posixPermissions: 0o755])
    return path
}

func removeDirectory(_ path: String) { try? FileManager.default.removeItem(atPath: path) }
