#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics
import ImageGenValues

/// What identifies a file's content without reading it, as git's index does: if none of these
/// changed, the content is taken as unchanged (see ``FileDigestCache`` for the exact rule).
public struct FileStamp: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var mtimeNanoseconds: Int64
    public var ctimeNanoseconds: Int64

    /// The file itself, whatever its path: hard links to it share one key (and one content).
    public var key: FileKey { FileKey(device: device, inode: inode) }

    /// Whether the file was last written (or its inode changed) at least the racy window before
    /// `time` (nanoseconds since the epoch): then content read at or after `time` is what these
    /// stamps describe until they change (see ``FileDigestCache``).
    /// Stamps of a file written less than this long before it was read do not vouch for its
    /// content (git's "racily clean" rule): the clock may not have moved since.
    public static let racyWindowNanoseconds: Int64 = 1_000_000_000

    public func settled(before time: Int64) -> Bool {
        max(mtimeNanoseconds, ctimeNanoseconds) < time - Self.racyWindowNanoseconds
    }
}

/// A file's identity on this machine (device and inode).
public struct FileKey: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
}

/// One entry of a layer's build context, with its normalized tar metadata.
public struct ContextEntry: Hashable, Sendable {
    public enum Kind: String, Sendable, Codable { case file, directory, symlink }

    /// Path inside the tar, relative, no leading `./`, e.g. `context/docs/guide.md`.
    public var path: String
    public var kind: Kind
    /// Normalized permission bits: 0644 or 0755 for files, 0755 for directories, 0777 for links.
    public var mode: UInt32
    public var size: Int64
    public var linkTarget: String?
    /// Where to read a file's bytes from on disk.
    public var sourcePath: String?
    public var stamp: FileStamp?
    /// Bytes held in memory instead of on disk (the generated Dockerfile).
    public var inlineData: [UInt8]?
    /// Owner in the archive: 0 in every build context (the Dockerfile's `--chown` decides);
    /// others only where an archive stands for an image layer.
    public var uid: Int64 = 0
    public var gid: Int64 = 0

    public static func directory(_ path: String) -> ContextEntry {
        ContextEntry(path: path, kind: .directory, mode: 0o755, size: 0)
    }

    package static func file(path: String, source: String, info: stat) -> ContextEntry {
        let executable = info.st_mode & 0o111 != 0
        let stamp = FileStamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            mtimeNanoseconds: SystemCalls.modificationNanoseconds(info),
            ctimeNanoseconds: SystemCalls.changeNanoseconds(info))
        return ContextEntry(path: path, kind: .file, mode: executable ? 0o755 : 0o644, size: Int64(info.st_size), sourcePath: source, stamp: stamp)
    }

    public static func inline(_ path: String, _ bytes: [UInt8]) -> ContextEntry {
        ContextEntry(path: path, kind: .file, mode: 0o644, size: Int64(bytes.count), inlineData: bytes)
    }
}

extension Array where Element == ContextEntry {
    /// Sorted by the UTF-8 bytes of their paths (not `String`'s Unicode order, which equates NFC and
    /// NFD spellings), with missing parent directories added and duplicates dropped.
    package func normalizedForArchive() -> [ContextEntry] {
        var seen = Set<String>(minimumCapacity: count * 2)
        var result: [ContextEntry] = []
        result.reserveCapacity(count + 8)
        for entry in self where seen.insert(entry.path).inserted { result.append(entry) }
        for entry in self {
            // Walk up until a parent that is already there (usually the first one).
            var path = Substring(entry.path)
            while let parent = path.parentPath {
                path = parent
                guard seen.insert(String(path)).inserted else { break }
                result.append(.directory(String(path)))
            }
        }
        return result.sortedByPath()
    }

    /// Sorts by path bytes without copying entries while comparing: the paths are laid out in
    /// one buffer and indices are ordered by `memcmp` over it.
    func sortedByPath() -> [ContextEntry] {
        var bytes: [UInt8] = []
        var spans: [(start: Int, count: Int)] = []
        spans.reserveCapacity(count)
        for entry in self {
            let start = bytes.count
            bytes.append(contentsOf: entry.path.utf8)
            spans.append((start, bytes.count - start))
        }
        let order: [Int] = bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return Swift.Array(self.indices) }
            return indices.sorted { a, b in
                let x = spans[a], y = spans[b]
                let common = Swift.min(x.count, y.count)
                let result = common == 0 ? 0 : memcmp(base + x.start, base + y.start, common)
                return result != 0 ? result < 0 : x.count < y.count
            }
        }
        return order.map { self[$0] }
    }

    /// Adds one entry to an already normalized list, keeping its order (replacing an entry of
    /// the same path).
    package func inserting(_ entry: ContextEntry) -> [ContextEntry] {
        var low = 0, high = count
        while low < high {
            let middle = (low + high) / 2
            if utf8Precedes(self[middle].path, entry.path) { low = middle + 1 } else { high = middle }
        }
        var result = self
        if low < count, self[low].path == entry.path {
            result[low] = entry
        } else {
            result.insert(entry, at: low)
        }
        return result
    }
}
