/// What identifies a file's content without reading it, as git's index does: if none of these
/// changed, the content is taken as unchanged (see ``DigestCache`` for the exact rule).
public struct FileStamp: Hashable, Sendable {
    public var device: UInt64
    public var inode: UInt64
    public var size: Int64
    public var mtimeNanoseconds: Int64
    public var ctimeNanoseconds: Int64
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

    public static func directory(_ path: String) -> ContextEntry {
        ContextEntry(path: path, kind: .directory, mode: 0o755, size: 0)
    }

    public static func inline(_ path: String, _ bytes: [UInt8]) -> ContextEntry {
        ContextEntry(path: path, kind: .file, mode: 0o644, size: Int64(bytes.count), inlineData: bytes)
    }
}

extension Array where Element == ContextEntry {
    /// Sorted by the UTF-8 bytes of their paths (not `String`'s Unicode order, which equates NFC and
    /// NFD spellings), with missing parent directories added and duplicates dropped.
    func normalizedForArchive() -> [ContextEntry] {
        var byPath: [String: ContextEntry] = [:]
        for entry in self where byPath[entry.path] == nil { byPath[entry.path] = entry }
        for entry in self {
            var parent = Substring(entry.path)
            while let slash = parent.lastIndex(of: "/") {
                parent = parent[..<slash]
                let path = String(parent)
                if byPath[path] == nil { byPath[path] = .directory(path) }
            }
        }
        return byPath.values.sorted { $0.path.utf8.lexicographicallyPrecedes($1.path.utf8) }
    }
}
