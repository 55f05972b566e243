#if canImport(Glibc)
import Glibc
#endif

/// Lists a directory tree (or one file) for a build context: POSIX `lstat` on every entry,
/// `.dockerignore` at the tree's root honoured, symlinks kept as links (and refused when they
/// point outside the tree), special files refused. The listing is independent of the order the
/// file system returns names in and of the checkout's absolute path.
public struct ContextWalker {
    public struct Problem: Sendable, Hashable {
        /// The file's path for messages (the tree's display path joined with its relative path).
        public var path: String
        public var message: String
    }

    /// Where the tree is on disk.
    public var root: String
    /// How messages name the tree (usually relative to the working directory).
    public var displayRoot: String
    /// Prefix of every entry's path in the tar, e.g. `context`.
    public var archivePrefix: String

    public init(root: String, displayRoot: String, archivePrefix: String) {
        self.root = root
        self.displayRoot = displayRoot
        self.archivePrefix = archivePrefix
    }

    public func walk() -> (entries: [ContextEntry], problems: [Problem]) {
        var entries: [ContextEntry] = []
        var problems: [Problem] = []
        var info = stat()
        guard lstat(root, &info) == 0 else {
            problems.append(Problem(path: displayRoot, message: "does not exist"))
            return ([], problems)
        }
        switch info.st_mode & S_IFMT {
        case S_IFREG:
            entries.append(Self.fileEntry(path: archivePrefix, source: root, info: info))
            return (entries, problems)
        case S_IFDIR:
            break
        case S_IFLNK:
            problems.append(Problem(path: displayRoot, message: "is a symlink; name the file or directory it points to"))
            return ([], problems)
        default:
            problems.append(Problem(path: displayRoot, message: "is not a regular file or directory"))
            return ([], problems)
        }

        var ignore = DockerIgnore()
        let ignorePath = root + "/.dockerignore"
        if let text = try? readSmallFile(ignorePath) {
            do {
                ignore = try DockerIgnore(contents: text)
            } catch {
                problems.append(Problem(path: displayRoot + "/.dockerignore", message: "\(error)"))
            }
        }
        entries.append(.directory(archivePrefix))
        let rootFD = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard rootFD >= 0 else {
            problems.append(Problem(path: displayRoot, message: "cannot be read: \(String(cString: strerror(errno)))"))
            return (entries, problems)
        }
        walkDirectory(rootFD, relative: "", ignore: ignore, into: &entries, problems: &problems)
        return (entries, problems)
    }

    /// Lists the directory open at `directoryFD` (which this closes), with calls relative to it
    /// so the kernel does not resolve the whole path again for every entry.
    private func walkDirectory(_ directoryFD: Int32, relative: String, ignore: DockerIgnore, into entries: inout [ContextEntry], problems: inout [Problem]) {
        guard let handle = fdopendir(directoryFD) else {
            close(directoryFD)
            problems.append(Problem(path: display(relative), message: "cannot read this directory: \(String(cString: strerror(errno)))"))
            return
        }
        defer { closedir(handle) }
        let fd = dirfd(handle)
        var names: [[UInt8]] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw -> [UInt8] in
                Array(raw.prefix { $0 != 0 })
            }
            if name == [0x2E] || name == [0x2E, 0x2E] { continue }
            names.append(name)
        }
        names.sort { $0.lexicographicallyPrecedes($1) }

        for nameBytes in names {
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                problems.append(Problem(path: display(relative), message: "a file name in this directory is not UTF-8"))
                continue
            }
            if relative.isEmpty, name == ".dockerignore" { continue }
            let childRelative = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                problems.append(Problem(path: display(childRelative), message: "cannot read this file: \(String(cString: strerror(errno)))"))
                continue
            }
            let kind = info.st_mode & S_IFMT
            let excluded = !ignore.isEmpty && ignore.excludes(childRelative, parentsIncluded: true)
            if excluded {
                // As Docker does, walk into an excluded directory only when a `!` pattern may
                // re-include something inside it; the directory's own entry stays out.
                if kind == S_IFDIR, ignore.hasExclusions {
                    let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    if child >= 0 { walkDirectory(child, relative: childRelative, ignore: ignore, into: &entries, problems: &problems) }
                }
                continue
            }
            let archivePath = archivePrefix + "/" + childRelative
            switch kind {
            case S_IFREG:
                entries.append(Self.fileEntry(path: archivePath, source: root + "/" + childRelative, info: info))
            case S_IFDIR:
                entries.append(.directory(archivePath))
                let child = openat(fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else {
                    problems.append(Problem(path: display(childRelative), message: "cannot read this directory: \(String(cString: strerror(errno)))"))
                    continue
                }
                walkDirectory(child, relative: childRelative, ignore: ignore, into: &entries, problems: &problems)
            case S_IFLNK:
                guard let target = readLink(fd, name) else {
                    problems.append(Problem(path: display(childRelative), message: "cannot read this symlink"))
                    continue
                }
                if let reason = Self.escapeReason(link: childRelative, target: target) {
                    problems.append(Problem(path: display(childRelative), message: "symlink to '\(target)' \(reason); only links that stay inside the directory are kept"))
                    continue
                }
                entries.append(ContextEntry(path: archivePath, kind: .symlink, mode: 0o777, size: 0, linkTarget: target))
            default:
                problems.append(Problem(path: display(childRelative), message: "a socket, pipe or device cannot go into an image (only files, directories and symlinks)"))
            }
        }
    }

    private func display(_ relative: String) -> String {
        relative.isEmpty ? displayRoot : displayRoot + "/" + relative
    }

    static func fileEntry(path: String, source: String, info: stat) -> ContextEntry {
        let executable = info.st_mode & 0o111 != 0
        let stamp = FileStamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            mtimeNanoseconds: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec),
            ctimeNanoseconds: Int64(info.st_ctim.tv_sec) * 1_000_000_000 + Int64(info.st_ctim.tv_nsec))
        return ContextEntry(path: path, kind: .file, mode: executable ? 0o755 : 0o644, size: Int64(info.st_size), sourcePath: source, stamp: stamp)
    }

    /// Why a link leaves the tree, judged lexically from the link's own directory, or nil.
    static func escapeReason(link: String, target: String) -> String? {
        if target.hasPrefix("/") { return "is absolute" }
        var depth = link.split(separator: "/").count - 1
        for part in target.split(separator: "/") {
            if part == "." { continue }
            if part == ".." {
                depth -= 1
                if depth < 0 { return "points outside the directory" }
            } else {
                depth += 1
            }
        }
        return nil
    }

    private func readLink(_ directoryFD: Int32, _ name: String) -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let count = readlinkat(directoryFD, name, &buffer, buffer.count - 1)
        guard count >= 0 else { return nil }
        return String(decoding: buffer[0..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Reads a small text file (a `.dockerignore`, a manifest) whole.
func readSmallFile(_ path: String) throws -> String {
    String(decoding: try readFileBytes(path, limit: 16 << 20), as: UTF8.self)
}

/// Reads a file whole, in one allocation of its size (files here are read on every run, so
/// `FileManager`'s copies through `Data` show), refusing one larger than `limit`.
func readFileBytes(_ path: String, limit: Int) throws -> [UInt8] {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw FileSystemError.errno("open", path) }
    defer { close(fd) }
    var info = stat()
    guard fstat(fd, &info) == 0 else { throw FileSystemError.errno("stat", path) }
    var capacity = min(Int(info.st_size), limit) + 1
    var result: [UInt8] = []
    while true {
        var failed: Int32 = 0
        let chunk = try [UInt8](unsafeUninitializedCapacity: capacity) { buffer, initialized in
            initialized = 0
            while initialized < buffer.count {
                let count = read(fd, buffer.baseAddress! + initialized, buffer.count - initialized)
                if count < 0, errno == EINTR { continue }
                if count < 0 { failed = errno; break }
                if count == 0 { break }
                initialized += count
            }
            if failed != 0 { throw FileSystemError(path: path, operation: "read", reason: String(cString: strerror(failed))) }
        }
        let ended = chunk.count < capacity
        if result.isEmpty { result = chunk } else { result += chunk }
        if result.count > limit {
            throw FileSystemError(path: path, operation: "read", reason: "file is larger than \(limit >> 20) MiB")
        }
        if ended { return result }
        capacity = 65_536
    }
}
