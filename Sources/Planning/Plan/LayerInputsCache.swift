import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes

/// Remembers each layer's hash inputs (and content hash) by a fingerprint of everything they are
/// made from *without reading a file*: the Dockerfile, the args, the parent's hash, and every
/// context entry's path, type, mode, link target and ``FileStamp``. When a second `plan` finds the
/// same fingerprint, nothing about the layer changed, so it skips what building the inputs costs:
/// loading the digest cache, looking up 5,000 digests, the secret checks, sorting the entries and
/// serializing the inputs.
///
/// The rule is the ``FileDigestCache``'s, applied to a whole layer: a stamp that matches means the
/// content matches, provided the file was not written within ``FileDigestCache/racyWindowNanoseconds``
/// of the moment it was read. A layer is remembered only when every one of its files is older than
/// that window at the start of the plan (files are read after it). A layer is remembered only
/// after a plan that found no secret, and the secret rules' version is part of the fingerprint.
///
/// The file holds one line per layer: name, fingerprint, content hash, and the canonical inputs.
/// A line whose inputs do not hash to its content hash is ignored, so a damaged memo costs a
/// slower plan, never a wrong hash.
public final class LayerInputsCache: Sendable {
    public struct Entry: Sendable, Equatable {
        public var fingerprint: String
        public var contentHash: ContentHash
        public var canonicalInputs: [UInt8]
    }

    static let header = "imagegen-layer-memo 1\n"

    private let records: RecordFile<String, Entry>
    private let counts = Locked(HitCounts())
    public var hits: Int { counts.value.hits }
    public var misses: Int { counts.value.misses }

    /// A memo kept in `file` (nil keeps it in memory for this run only).
    /// The clock a plan's start is taken from (see ``FileDigestCache/now``).
    public let now: @Sendable () -> Int64

    public init(file: String?, now: @escaping @Sendable () -> Int64 = { nowNanoseconds() }) {
        records = RecordFile(file: file, parse: Self.parse)
        self.now = now
    }

    /// The memo file for a recipe: one per recipe path, beside its digest cache.
    public static func defaultFile(forRecipeAt recipePath: String) -> String? {
        FileDigestCache.defaultFile(forRecipeAt: recipePath, kind: "layers")
    }

    /// The remembered inputs of `layer` if its fingerprint is still `fingerprint`.
    public func lookup(layer: String, fingerprint: String) -> Entry? {
        let entry = records.reuse(layer) { $0.fingerprint == fingerprint && ContentHash(ofCanonicalInputs: $0.canonicalInputs) == $0.contentHash }
        counts.withLock { $0.count(found: entry != nil) }
        return entry
    }

    public func record(layer: String, _ entry: Entry) {
        records.keep(entry, for: layer)
    }

    /// Writes the layers looked up or recorded in this run (others are dropped), atomically, and
    /// only if something changed.
    public func save() throws {
        try records.save { entries in
            var bytes = Array(Self.header.utf8)
            for (layer, entry) in entries.sorted(by: { $0.key < $1.key }) {
                bytes += layer.utf8
                bytes.append(0x09)
                bytes += entry.fingerprint.utf8
                bytes.append(0x09)
                bytes += entry.contentHash.hex.utf8
                bytes.append(0x09)
                bytes += entry.canonicalInputs
                bytes.append(0x0A)
            }
            return bytes
        }
    }

    /// Layer names cannot hold a tab or a newline, hex cannot, and canonical JSON escapes both,
    /// so a line splits unambiguously at its first three tabs.
    static func parse(_ bytes: [UInt8]) -> [String: Entry] {
        let header = Array(Self.header.utf8)
        guard bytes.starts(with: header) else { return [:] }
        var entries: [String: Entry] = [:]
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            /// The next `byte` at or after `start`, before `end` (`memchr`: lines are long).
            func find(_ byte: UInt8, from start: Int, to end: Int) -> Int? {
                guard start < end, let found = memchr(base + start, Int32(byte), end - start) else { return nil }
                return base.distance(to: found.assumingMemoryBound(to: UInt8.self))
            }
            var index = header.count
            while index < buffer.count {
                let end = find(0x0A, from: index, to: buffer.count) ?? buffer.count
                defer { index = end + 1 }
                var fields: [Range<Int>] = []
                var start = index
                while fields.count < 3, let tab = find(0x09, from: start, to: end) {
                    fields.append(start..<tab)
                    start = tab + 1
                }
                fields.append(start..<end)
                guard fields.count == 4, fields[1].count == 64, fields[2].count == 64 else { continue }
                func text(_ range: Range<Int>) -> String { String(decoding: UnsafeBufferPointer(rebasing: buffer[range]), as: UTF8.self) }
                guard let contentHash = try? ContentHash(parsing: text(fields[2])) else { continue }
                entries[text(fields[0])] = Entry(
                    fingerprint: text(fields[1]), contentHash: contentHash,
                    canonicalInputs: Array(UnsafeBufferPointer(rebasing: buffer[fields[3]])))
            }
        }
        return entries
    }
}

/// Builds a layer's fingerprint: SHA-256 over length-prefixed fields, so no two different field
/// lists feed the hash the same bytes. Fields are gathered in a small buffer that is hashed as it
/// fills.
struct Fingerprint {
    private var hasher = SHA256()
    private var buffer: [UInt8] = []
    private static let flushSize = 16_384

    init() { buffer.reserveCapacity(Self.flushSize + 1024) }

    mutating func add(_ text: String) {
        add(Int64(text.utf8.count))
        buffer += text.utf8
        flushIfFull()
    }

    mutating func add(_ data: [UInt8]) {
        add(Int64(data.count))
        buffer += data
        flushIfFull()
    }

    mutating func add(_ value: Int64) {
        withUnsafeBytes(of: value.littleEndian) { buffer += $0 }
    }

    mutating func add(_ value: UInt64) { add(Int64(bitPattern: value)) }

    mutating func add(_ entry: ContextEntry) {
        add(entry.kind.rawValue)
        add(entry.path)
        add(Int64(entry.mode))
        add(entry.size)
        add(entry.linkTarget ?? "")
        add(entry.sourcePath ?? "")
        if let stamp = entry.stamp {
            add(stamp.device)
            add(stamp.inode)
            add(stamp.size)
            add(stamp.mtimeNanoseconds)
            add(stamp.ctimeNanoseconds)
        } else {
            add(Int64(-1))
        }
        if let data = entry.inlineData { add(data) } else { add(Int64(-1)) }
    }

    private mutating func flushIfFull() {
        guard buffer.count >= Self.flushSize else { return }
        hasher.update(data: buffer)
        buffer.removeAll(keepingCapacity: true)
    }

    mutating func finalize() -> String {
        hasher.update(data: buffer)
        buffer.removeAll()
        return hasher.finalize().hexString
    }
}
