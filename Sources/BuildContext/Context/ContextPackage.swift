import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics
import ImageGenValues

/// A context directory as one file (`NAME.context`, a `.tar.gz`), for FEAT-026's build-time
/// workflow: `imagegen context package DIR --output NAME.context` writes it, a recipe bakes it
/// with `context: {package: NAME.context}`. It holds the directory (after `.dockerignore`), the
/// repositories its manifest pins, already fetched, and a lock naming their commits; the same
/// inputs give the same bytes, and a package bakes the same image as the directory it came from.
public enum ContextPackage {
    /// The package's entries: the baked context's `context/…` entries without the prefix (the
    /// derived `targets/…` are made again when it is baked), and the lock.
    public static func entries(_ baked: BakedContext) -> [ContextEntry] {
        let prefix = ContextLayout.contextDirectory + "/"
        var entries: [ContextEntry] = baked.entries.compactMap { entry in
            guard entry.path.hasPrefix(prefix) else { return nil }
            var copy = entry
            copy.path = String(entry.path.dropFirst(prefix.count))
            return copy
        }
        entries.append(.inline(ContextBaker.lockFile, Array(ContextBaker.lockDocument(baked.repos).pretty.utf8)))
        return entries.normalizedForArchive()
    }

    /// Writes the package to `output` atomically.
    public static func write(_ baked: BakedContext, to output: String) throws {
        let stream = try TarWriter(entries: entries(baked), gzip: true)
        try AtomicFile.write(to: output, createDirectories: true) { fd, temporary in
            try stream.write(to: fd, path: temporary)
        }
    }

    /// Unpacks a package (once per content: `into/<sha256>/`) and returns the directory. Only
    /// plain files, directories and links that stay inside are accepted.
    public static func extract(_ path: String, into directory: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path) else { throw ContextError.package("cannot read \(path)") }
        let hash = SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
        let target = "\(directory)/\(hash)"
        if FileManager.default.fileExists(atPath: target + "/" + ContextBaker.lockFile) { return target }
        let work = "\(directory)/.extract-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        defer { try? FileManager.default.removeItem(atPath: work) }
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        let reader: ArchiveReader
        do {
            reader = try ArchiveReader(bytes: Array(data))
        } catch {
            throw ContextError.package("not a context package (a .tar.gz made by imagegen context package): \(error)")
        }
        var sawLock = false
        while let entry = try reader.next() {
            var relative = Substring(entry.path)
            while relative.hasPrefix("./") { relative = relative.dropFirst(2) }
            while relative.hasSuffix("/") { relative = relative.dropLast() }
            if relative.isEmpty || relative == "." { continue }
            guard !relative.hasPrefix("/"), !relative.split(separator: "/").contains("..") else {
                throw ContextError.package("entry '\(entry.path)' leaves the package")
            }
            let full = work + "/" + relative
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            switch entry.kind {
            case .directory:
                try FileManager.default.createDirectory(atPath: full, withIntermediateDirectories: true)
            case .file:
                let bytes = try reader.readAll(limit: 1 << 30)
                guard FileManager.default.createFile(atPath: full, contents: Data(bytes), attributes: [.posixPermissions: Int(entry.mode & 0o755)]) else {
                    throw ContextError.package("cannot write \(full)")
                }
                if relative == Substring(ContextBaker.lockFile) { sawLock = true }
            case .symlink:
                let link = entry.linkTarget ?? ""
                let resolved = DockerIgnore.clean(((String(relative) as NSString).deletingLastPathComponent as NSString).appendingPathComponent(link))
                guard !link.hasPrefix("/"), !resolved.hasPrefix("..") else { throw ContextError.package("link '\(entry.path)' points outside the package") }
                try FileManager.default.createSymbolicLink(atPath: full, withDestinationPath: link)
            default:
                throw ContextError.package("entry '\(entry.path)' is not a file, directory or link")
            }
        }
        guard sawLock else { throw ContextError.package("it has no \(ContextBaker.lockFile): make it with imagegen context package") }
        try? FileManager.default.removeItem(atPath: target)
        guard rename(work, target) == 0 || FileManager.default.fileExists(atPath: target + "/" + ContextBaker.lockFile) else {
            throw ContextError.package("cannot move the unpacked package to \(target)")
        }
        return target
    }
}
