import Foundation
import ContainerBasics

/// Records kept in a file from one run to the next, as the digest cache and the layer memo keep
/// theirs: the file is read at the first use (a run that needs none does not pay for it), and
/// written back atomically with only the records used or made in this run, when they changed.
package final class RecordFile<Key: Hashable & Sendable, Value: Equatable & Sendable>: Sendable {
    private let file: String?
    private let parse: @Sendable ([UInt8]) -> [Key: Value]
    private let state = Locked(Records())

    struct Records: Sendable {
        var loaded = false
        var previous: [Key: Value] = [:]
        var current: [Key: Value] = [:]
    }

    /// Records kept in `file` (nil keeps them in memory for this run only), read with `parse`.
    package init(file: String?, parse: @escaping @Sendable ([UInt8]) -> [Key: Value]) {
        self.file = file
        self.parse = parse
    }

    /// Last run's record for `key` if `accept` takes it; it is then kept for the next run.
    package func reuse(_ key: Key, if accept: (Value) -> Bool) -> Value? {
        state.withLock { records in
            load(&records)
            guard let value = records.previous[key], accept(value) else { return nil }
            records.current[key] = value
            return value
        }
    }

    package func keep(_ value: Value, for key: Key) {
        state.withLock { records in
            load(&records)
            records.current[key] = value
        }
    }

    /// Writes this run's records with `serialize`, unless they are what the file holds (or the
    /// run used none).
    package func save(_ serialize: ([Key: Value]) -> [UInt8]) throws {
        guard let file else { return }
        let records: [Key: Value]? = state.withLock { $0.loaded && $0.current != $0.previous ? $0.current : nil }
        guard let records else { return }
        try AtomicFile.write(serialize(records), to: file, createDirectories: true)
    }

    /// The file's records, read at the first use (under the lock).
    private func load(_ records: inout Records) {
        guard !records.loaded else { return }
        records.loaded = true
        if let file, let bytes = try? readFileBytes(file, limit: 1 << 30) { records.previous = parse(bytes) }
        records.current.reserveCapacity(records.previous.count)
    }
}
