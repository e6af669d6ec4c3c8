import Foundation

/// Locates data files that tests load: the repository's `Specs/vectors/` (normative vectors)
/// and `Tests/Vectors/` (published third-party vectors copied into the repo).
public enum TestVectors {
    /// The repository root, found from this file's path (Tests/PaymeshTestSupport/Vectors.swift).
    public static let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    public static func specVector(_ name: String) throws -> Data {
        try Data(contentsOf: repositoryRoot.appendingPathComponent("Specs/vectors").appendingPathComponent(name))
    }

    public static func testVector(_ name: String) throws -> Data {
        try Data(contentsOf: repositoryRoot.appendingPathComponent("Tests/Vectors").appendingPathComponent(name))
    }

    /// Decodes a JSON vector file into `T`.
    public static func load<T: Decodable>(_ type: T.Type, spec name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: specVector(name))
    }

    public static func load<T: Decodable>(_ type: T.Type, test name: String) throws -> T {
        try JSONDecoder().decode(T.self, from: testVector(name))
    }
}

extension TestVectors {
    public struct MissingRegressions: Error, CustomStringConvertible {
        public let target: String
        public var description: String { "Fuzz/Regressions/\(target)/ is missing or empty" }
    }

    /// The files of Fuzz/Regressions/<target>/ (fuzzer crashers and the seed corpus), sorted by
    /// name. Throws when the directory is missing or empty, so a replay test cannot pass vacuously.
    public static func fuzzRegressions(_ target: String) throws -> [(name: String, bytes: [UInt8])] {
        let directory = repositoryRoot.appendingPathComponent("Fuzz/Regressions/\(target)")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { !$0.hasPrefix(".") }
            .sorted()
        guard !names.isEmpty else { throw MissingRegressions(target: target) }
        return try names.map { ($0, Array(try Data(contentsOf: directory.appendingPathComponent($0)))) }
    }
}
