import Foundation
import ContainerBasics

/// Records kept in a file from one run to the next, as the digest cache and the layer memo keep
/// theirs: the file is read at the first use (a run that needs none does not pay for it), and
/// written back atomically with only the records used or made in this run, when they changed.
package final class RecordFile<Key: Hashable, Value: Equatable>: @unchecked Sendable {
    private let file: String?
    private let parse: ([UInt8]) -> [Key: Value]
    private let lock = NSLock()
    private var loaded = false
    private var previous: [Key: Value] = [:]
    private var current: [Key: Value] = [:]

    /// Records kept in `file` (nil keeps them in memory for this run only), read with `parse`.
    package init(file: String?, parse: @escaping ([UInt8]) -> [Key: Value]) {
        self.file = file
        self.parse = parse
    }

    /// Last run's record for `key` if `accept` takes it; it is then kept for the next run.
    package func reuse(_ key: Key, if accept: (Value) -> Bool) -> Value? {
        lock.withLock {
            loadIfNeeded()
            guard let value = previous[key], accept(value) else { return nil }
            current[key] = value
            return value
        }
    }

    package func keep(_ value: Value, for key: Key) {
        lock.withLock {
            loadIfNeeded()
            current[key] = value
        }
    }

    /// Writes this run's records with `serialize`, unless they are what the file holds (or the
    /// run used none).
    package func save(_ serialize: ([Key: Value]) -> [UInt8]) throws {
        guard let file else { return }
        let records: [Key: Value]? = lock.withLock { loaded && current != previous ? current : nil }
        guard let records else { return }
        try AtomicFile.write(serialize(records), to: file, createDirectories: true)
    }

    /// Called with the lock held.
    private func loadIfNeeded() {
        guard !loaded else { return }
        loaded = true
        if let file, let bytes = try? readFileBytes(file, limit: 1 << 30) { previous = parse(bytes) }
        current.reserveCapacity(previous.count)
    }
}
