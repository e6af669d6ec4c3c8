import Foundation

/// The durable records of the A2A tasks that carry a payment (Specs/storage.md, "A2A tasks";
/// Specs/a2a.md §4): `<datadir>/a2a-tasks/<task id>.json`, one file per task, each written like
/// `services.json` (temporary file 0600, `fsync`, `rename`, `fsync` of the directory), so a record
/// is the old content or the new after a kill -9. The directory is 0700. Bytes only: what a record
/// holds is `A2AEndpoint`'s.
public struct A2ATaskFiles: Sendable {
    public static let directoryName = "a2a-tasks"
    /// At most this many records are read at start (the task book's capacity, with room for the
    /// records of tasks evicted while their deletion failed).
    public static let maxRecords = 4_096

    public let directory: String

    /// Creates `<datadir>/a2a-tasks` (0700) if absent.
    public init(dataDirectory: String) throws(NodeError) {
        directory = dataDirectory + "/" + Self.directoryName
        if mkdir(directory, 0o700) != 0 && errno != EEXIST {
            throw .configuration("cannot create \(directory): \(errnoText())")
        }
        chmod(directory, 0o700)
    }

    /// A task id is 32 lowercase hex digits (the node's randomness), so it is a safe file name.
    static func isTaskID(_ id: String) -> Bool {
        id.utf8.count == 32 && id.utf8.allSatisfy { (48...57).contains($0) || (97...102).contains($0) }
    }

    func path(_ id: String) -> String { directory + "/" + id + ".json" }

    /// Writes task `id`'s record durably; returns once it is renamed into place and synced.
    public func save(_ id: String, _ record: [UInt8]) throws(NodeError) {
        precondition(Self.isTaskID(id), "task ids are 32 hex digits")
        try AtomicFile.write(record, to: path(id), directory: directory)
    }

    /// Deletes task `id`'s record (nothing when there is none).
    public func delete(_ id: String) throws(NodeError) {
        guard Self.isTaskID(id) else { return }
        if unlink(path(id)) != 0 && errno != ENOENT { throw .internalError("cannot delete \(path(id)): \(errnoText())") }
    }

    /// Every record, as (task id, bytes), at most `maxRecords`; leftover temporary files of an
    /// interrupted write are deleted. A file over `maxBytes` or unreadable is an error naming it.
    public func loadAll(maxBytes: Int) throws(NodeError) -> [(id: String, bytes: [UInt8])] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .configuration("cannot list \(directory): \(error)")
        }
        var records: [(id: String, bytes: [UInt8])] = []
        for name in names.sorted() {
            if name.hasSuffix(".json.tmp") { unlink(directory + "/" + name); continue }
            guard name.hasSuffix(".json"), Self.isTaskID(String(name.dropLast(5))) else { continue }
            guard records.count < Self.maxRecords else {
                throw .configuration("\(directory) holds more than \(Self.maxRecords) task records")
            }
            let file = directory + "/" + name
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: file),
                  let size = attributes[.size] as? Int, size <= maxBytes,
                  let data = FileManager.default.contents(atPath: file) else {
                throw .configuration("the A2A task record \(file) cannot be read or is longer than \(maxBytes) bytes")
            }
            records.append((String(name.dropLast(5)), [UInt8](data)))
        }
        return records
    }
}
