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
