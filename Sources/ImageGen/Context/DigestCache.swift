import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Remembers each file's SHA-256 (and that it holds no secret) by its ``FileStamp``, so a second
/// `plan` or `build` with nothing changed reads no file contents.
///
/// The rule, as git's index applies it: a remembered digest is used only if device, inode, size,
/// mtime and ctime (nanoseconds) all match what `lstat` says now. Editing a file in place changes
/// its ctime even when its size and mtime are restored; replacing it changes its inode. A digest is
/// remembered only when the file's mtime and ctime were at least ``racyWindow`` older than the
/// moment it was read: a file written in the same clock tick as it was hashed could change again
/// without its timestamps moving (git's "racily clean" case), so such a file is hashed again next
/// time instead.
public final class DigestCache: @unchecked Sendable {
    public struct Record: Sendable, Hashable {
        public var stamp: FileStamp
        public var sha256: String
        public var binary: Bool
    }

    /// How much older than the read time a file's timestamps must be for its digest to be kept.
    public static let racyWindowNanoseconds: Int64 = 1_000_000_000

    private let file: String?
    private let lock = NSLock()
    private var previous: [String: Record] = [:]
    private var current: [String: Record] = [:]
    public private(set) var hits = 0
    public private(set) var misses = 0

    /// A cache kept in `file` (nil keeps it in memory for this run only).
    public init(file: String?) {
        self.file = file
        if let file, let text = try? readSmallFileUnlimited(file) { previous = Self.parse(text) }
    }

    /// The cache file for a recipe: one per recipe path, under `IMAGEGEN_CACHE_DIR`,
    /// `$XDG_CACHE_HOME/imagegen` or `~/.cache/imagegen`.
    public static func defaultFile(forRecipeAt recipePath: String) -> String? {
        let environment = ProcessInfo.processInfo.environment
        let directory: String
        if let dir = environment["IMAGEGEN_CACHE_DIR"], !dir.isEmpty {
            directory = dir
        } else if let xdg = environment["XDG_CACHE_HOME"], !xdg.isEmpty {
            directory = xdg + "/imagegen"
        } else if let home = environment["HOME"], !home.isEmpty {
            directory = home + "/.cache/imagegen"
        } else {
            return nil
        }
        let absolute = URL(fileURLWithPath: recipePath).standardizedFileURL.path
        return directory + "/digests-" + String(sha256Hex(absolute).prefix(20))
    }

    public func lookup(path: String, stamp: FileStamp) -> Record? {
        lock.lock()
        defer { lock.unlock() }
        if let record = previous[path], record.stamp == stamp {
            hits += 1
            current[path] = record
            return record
        }
        misses += 1
        return nil
    }

    /// Remembers a digest computed from content read at `readAt` (nanoseconds since the epoch).
    public func store(path: String, record: Record, readAt: Int64) {
        let newest = max(record.stamp.mtimeNanoseconds, record.stamp.ctimeNanoseconds)
        guard newest < readAt - Self.racyWindowNanoseconds else { return }
        lock.lock()
        current[path] = record
        lock.unlock()
    }

    /// Writes the records used or made in this run (others are dropped), atomically.
    public func save() throws {
        guard let file else { return }
        lock.lock()
        let records = current
        lock.unlock()
        guard records != previous else { return }
        var text = "imagegen-digests 1\n"
        for (path, record) in records.sorted(by: { $0.key < $1.key }) where !path.contains("\t") && !path.contains("\n") {
            let s = record.stamp
            text += "\(path)\t\(s.device)\t\(s.inode)\t\(s.size)\t\(s.mtimeNanoseconds)\t\(s.ctimeNanoseconds)\t\(record.sha256)\t\(record.binary ? 1 : 0)\n"
        }
        try AtomicFile.write(Array(text.utf8), to: file, createDirectories: true)
    }

    static func parse(_ text: String) -> [String: Record] {
        var lines = text.split(separator: "\n")
        guard lines.first == "imagegen-digests 1" else { return [:] }
        lines.removeFirst()
        var records: [String: Record] = [:]
        records.reserveCapacity(lines.count)
        for line in lines {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count == 8, let device = UInt64(fields[1]), let inode = UInt64(fields[2]),
                  let size = Int64(fields[3]), let mtime = Int64(fields[4]), let ctime = Int64(fields[5]),
                  fields[6].utf8.count == 64
            else { continue }
            let stamp = FileStamp(device: device, inode: inode, size: size, mtimeNanoseconds: mtime, ctimeNanoseconds: ctime)
            records[String(fields[0])] = Record(stamp: stamp, sha256: String(fields[6]), binary: fields[7] == "1")
        }
        return records
    }
}

func readSmallFileUnlimited(_ path: String) throws -> String {
    String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
}
