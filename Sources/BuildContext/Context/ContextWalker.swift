#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics
import ImageGenValues

/// Lists a directory tree (or one file) for a build context: POSIX `lstat` on every entry,
/// `.dockerignore` at the tree's root honoured, symlinks kept as links (and refused when they
/// point outside the tree), special files refused. The listing is independent of the order the
/// file system returns names in and of the checkout's absolute path.
public struct ContextWalker: Sendable {
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
            entries.append(ContextEntry.file(path: archivePrefix, source: root, info: info))
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
        var output = Output(entries: entries, problems: problems)
        output.entries.append(.directory(archivePrefix))
        walkDirectory(at: AT_FDCWD, name: root, relative: "", ignore: ignore, depth: 0, into: &output)
        return (output.entries, output.problems)
    }

    /// What a walk (or one subtree of it) found, in listing order.
    private struct Output: Sendable {
        var entries: [ContextEntry] = []
        var problems: [Problem] = []

        mutating func append(_ other: Output) {
            entries += other.entries
            problems += other.problems
        }
    }

    /// Subtrees are walked on all cores down to this depth, when a directory has two or more;
    /// below it (and for a lone subdirectory) the walk goes on in the same thread. File systems
    /// answer `fstatat` from their caches in parallel, and it is most of a walk's time.
    static let parallelDepth = 3

    /// Lists the directory `name` (opened relative to `parentFD`) and everything below it, with
    /// calls relative to its descriptor so the kernel does not resolve the whole path again for
    /// every entry. Entries come out sorted by name within each directory, a directory's entry
    /// before its contents, whether or not subtrees were walked in parallel.
    ///
    /// An excluded directory is walked only for what `!` patterns bring back, so one that cannot
    /// be read is passed over `quietly`.
    private func walkDirectory(
        at parentFD: Int32, name directoryName: String, relative: String, ignore: DockerIgnore, depth: Int,
        quietly: Bool = false, into output: inout Output
    ) {
        let directoryFD = openat(parentFD, directoryName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directoryFD >= 0, let handle = fdopendir(directoryFD) else {
            if directoryFD >= 0 { close(directoryFD) }
            if quietly { return }
            output.problems.append(Problem(path: display(relative), message: "cannot read this directory: \(String(cString: strerror(errno)))"))
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

        /// One child, in order: something found, or a subtree to walk (`entry` is the directory's
        /// own entry, nil for an excluded directory walked only for its `!` exceptions).
        enum Step {
            case found(Output)
            case subtree(name: String, relative: String, entry: ContextEntry?)
        }
        var steps: [Step] = []
        steps.reserveCapacity(names.count)
        var pending = Output()
        var subtrees = 0
        func flush() {
            guard !pending.entries.isEmpty || !pending.problems.isEmpty else { return }
            steps.append(.found(pending))
            pending = Output()
        }
        for nameBytes in names {
            guard let name = String(validating: nameBytes, as: UTF8.self) else {
                pending.problems.append(Problem(path: display(relative), message: "a file name in this directory is not UTF-8"))
                continue
            }
            if relative.isEmpty, name == ".dockerignore" { continue }
            let childRelative = relative.isEmpty ? name : relative + "/" + name
            var info = stat()
            guard fstatat(fd, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else {
                pending.problems.append(Problem(path: display(childRelative), message: "cannot read this file: \(String(cString: strerror(errno)))"))
                continue
            }
            let kind = info.st_mode & S_IFMT
            let excluded = !ignore.isEmpty && ignore.excludes(childRelative, parentsIncluded: true)
            if excluded {
                // As Docker does, walk into an excluded directory only when a `!` pattern may
                // re-include something inside it; the directory's own entry stays out.
                if kind == S_IFDIR, ignore.hasExclusions {
                    flush()
                    steps.append(.subtree(name: name, relative: childRelative, entry: nil))
                    subtrees += 1
                }
                continue
            }
            let archivePath = archivePrefix + "/" + childRelative
            switch kind {
            case S_IFREG:
                pending.entries.append(ContextEntry.file(path: archivePath, source: root + "/" + childRelative, info: info))
            case S_IFDIR:
                flush()
                steps.append(.subtree(name: name, relative: childRelative, entry: .directory(archivePath)))
                subtrees += 1
            case S_IFLNK:
                guard let target = readLink(fd, name) else {
                    pending.problems.append(Problem(path: display(childRelative), message: "cannot read this symlink"))
                    continue
                }
                if let reason = Self.escapeReason(link: childRelative, target: target) {
                    pending.problems.append(Problem(path: display(childRelative), message: "symlink to '\(target)' \(reason); only links that stay inside the directory are kept"))
                    continue
                }
                pending.entries.append(ContextEntry(path: archivePath, kind: .symlink, mode: 0o777, size: 0, linkTarget: target))
            default:
                pending.problems.append(Problem(path: display(childRelative), message: "a socket, pipe or device cannot go into an image (only files, directories and symlinks)"))
            }
        }
        flush()

        // Subtrees in parallel (each into its own output), then everything in listing order.
        var walked: [Output] = []
        if subtrees >= 2, depth < Self.parallelDepth {
            let work: [(name: String, relative: String, excluded: Bool)] = steps.compactMap {
                if case .subtree(let name, let relative, let entry) = $0 { (name, relative, entry == nil) } else { nil }
            }
            let walker = self
            walked = ParallelMap.run(count: work.count) { index in
                var subtree = Output()
                let (name, relative, excluded) = work[index]
                walker.walkDirectory(at: fd, name: name, relative: relative, ignore: ignore, depth: depth + 1, quietly: excluded, into: &subtree)
                return subtree
            }
        }
        var next = 0
        for step in steps {
            switch step {
            case .found(let found):
                output.append(found)
            case .subtree(let name, let relative, let entry):
                if let entry { output.entries.append(entry) }
                if walked.isEmpty {
                    walkDirectory(at: fd, name: name, relative: relative, ignore: ignore, depth: depth + 1, quietly: entry == nil, into: &output)
                } else {
                    output.append(walked[next])
                    next += 1
                }
            }
        }
    }

    private func display(_ relative: String) -> String {
        relative.isEmpty ? displayRoot : displayRoot + "/" + relative
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
