import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics
import ImageGenValues

/// Remembers each file's SHA-256 (and that it holds no secret) by its ``FileStamp``, so a second
/// `plan` or `build` with nothing changed reads no file contents.
///
/// The rule, as git's index applies it: a remembered digest is used only if device, inode, size,
/// mtime and ctime (nanoseconds) all match what `lstat` says now. Records are keyed by device and
/// inode rather than by path: the file's identity, and cheap to look up for thousands of files. Editing a file in place changes
/// its ctime even when its size and mtime are restored; replacing it changes its inode. A digest is
/// remembered only when the file's mtime and ctime were at least ``racyWindow`` older than the
/// moment it was read: a file written in the same clock tick as it was hashed could change again
/// without its timestamps moving (git's "racily clean" case), so such a file is hashed again next
/// time instead.
public final class FileDigestCache: Sendable {
    public struct Record: Sendable, Hashable {
        public var stamp: FileStamp
        public var sha256: String
        public var binary: Bool
    }

    /// A record also says its file held no secret, so the secret rules' version is part of the
    /// format: new rules mean every file is scanned again.
    static let header = "imagegen-digests 3 secret-rules-\(SecretScanner.rulesVersion)\n"

    /// How much older than the read time a file's timestamps must be for its digest to be kept.
    public static var racyWindowNanoseconds: Int64 { FileStamp.racyWindowNanoseconds }

    private let records: RecordFile<FileKey, Record>
    private let counts = Locked(HitCounts())
    public var hits: Int { counts.value.hits }
    public var misses: Int { counts.value.misses }

    /// A cache kept in `file` (nil keeps it in memory for this run only). The file is read at
    /// the first lookup, so a run that needs no digest does not pay for it.
    /// The clock the racy window is measured with (nanoseconds since the epoch): the wall clock,
    /// or in tests one that runs ahead, so that a file written just now counts as settled
    /// without waiting out the window.
    public let now: @Sendable () -> Int64

    public init(file: String?, now: @escaping @Sendable () -> Int64 = { nowNanoseconds() }) {
        records = RecordFile(file: file, parse: Self.parse)
        self.now = now
    }

    /// The cache file for a recipe: one per recipe path (and `kind` of cache), in
    /// ``CacheDirectory/path(environment:)``.
    public static func defaultFile(forRecipeAt recipePath: String, kind: String = "digests") -> String? {
        guard let directory = CacheDirectory.path() else { return nil }
        let absolute = URL(fileURLWithPath: recipePath).standardizedFileURL.path
        return directory + "/" + kind + "-" + String(sha256Hex(absolute).prefix(20))
    }

    public func lookup(stamp: FileStamp) -> Record? {
        let record = records.reuse(stamp.key) { $0.stamp == stamp }
        counts.withLock { $0.count(found: record != nil) }
        return record
    }

    /// Remembers a digest computed from content read at `readAt` (nanoseconds since the epoch).
    public func store(_ record: Record, readAt: Int64) {
        guard record.stamp.settled(before: readAt) else { return }
        records.keep(record, for: record.stamp.key)
    }

    /// Writes the records used or made in this run (others are dropped), atomically; a run that
    /// looked nothing up leaves the file as it was.
    public func save() throws {
        try records.save { records in
            var text = Self.header
            for record in records.values.sorted(by: { ($0.stamp.device, $0.stamp.inode) < ($1.stamp.device, $1.stamp.inode) }) {
                let s = record.stamp
                text += "\(s.device)\t\(s.inode)\t\(s.size)\t\(s.mtimeNanoseconds)\t\(s.ctimeNanoseconds)\t\(record.sha256)\t\(record.binary ? 1 : 0)\n"
            }
            return Array(text.utf8)
        }
    }

    /// Parses the cache file by bytes: it is read on every run, so it must cost little.
    static func parse(_ bytes: [UInt8]) -> [FileKey: Record] {
        let header = Array(Self.header.utf8)
        guard bytes.starts(with: header) else { return [:] }
        var records: [FileKey: Record] = [:]
        records.reserveCapacity(bytes.count / 110)
        bytes.withUnsafeBufferPointer { buffer in
            var index = header.count
            var fields: [Range<Int>] = []
            fields.reserveCapacity(8)
            while index < buffer.count {
                fields.removeAll(keepingCapacity: true)
                var fieldStart = index
                while index < buffer.count, buffer[index] != 0x0A {
                    if buffer[index] == 0x09 {
                        fields.append(fieldStart..<index)
                        fieldStart = index + 1
                    }
                    index += 1
                }
                fields.append(fieldStart..<index)
                index += 1
                guard fields.count == 7, fields[5].count == 64 else { continue }
                func number(_ range: Range<Int>) -> Int64? {
                    guard !range.isEmpty, range.count <= 19 else { return nil }
                    var value: Int64 = 0
                    for position in range {
                        let digit = buffer[position] &- 0x30
                        guard digit < 10 else { return nil }
                        value = value * 10 + Int64(digit)
                    }
                    return value
                }
                guard let device = number(fields[0]), let inode = number(fields[1]), let size = number(fields[2]),
                    let mtime = number(fields[3]), let ctime = number(fields[4]), !fields[6].isEmpty
                else { continue }
                let stamp = FileStamp(device: UInt64(device), inode: UInt64(inode), size: size, mtimeNanoseconds: mtime, ctimeNanoseconds: ctime)
                records[stamp.key] = Record(
                    stamp: stamp, sha256: String(decoding: UnsafeBufferPointer(rebasing: buffer[fields[5]]), as: UTF8.self),
                    binary: buffer[fields[6].lowerBound] == 0x31)
            }
        }
        return records
    }
}
