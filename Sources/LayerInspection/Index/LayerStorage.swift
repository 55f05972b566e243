import CSystemShims
import DockerEngine
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics
import ImageGenValues
import BuildContext

/// An image's layers read in place, in the engine's overlay2 storage: each layer is a plain
/// directory (`GraphDriver.Data`: `UpperDir` and the colon-separated `LowerDir`), readable by
/// root on the engine's own machine. Nothing is copied through the engine.
///
/// The directory is walked as the engine walks it to write the layer's tar (each directory's
/// names in byte order, so the first of a set of hard links is the file and the others link to
/// it), and overlay's own marks become what the export shows: a character device 0:0 deletes its
/// path, and a directory with `trusted.overlay.opaque=y` hides what the layers below hold in it.
/// The entries go through the same ``LayerIndexer`` as an export's, giving the same index.
public enum LayerStorage {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Where the engine keeps the image's layers on its own machine, bottom first (the order of
    /// its diff IDs), or why it does not say.
    public static func layout(of image: ImageInspect) -> Result<[String], Failure> {
        guard let driver = image.graphDriver else { return .failure(Failure(description: "the engine does not say where the layers are")) }
        guard driver.name == "overlay2" else { return .failure(Failure(description: "the storage driver is \(driver.name), not overlay2")) }
        guard let upper = driver.data?["UpperDir"], !upper.isEmpty else { return .failure(Failure(description: "the engine gives no UpperDir")) }
        let lower = (driver.data?["LowerDir"] ?? "").split(separator: ":").map(String.init)
        let directories = lower.reversed() + [upper]
        guard directories.count == image.rootFS?.layers?.count ?? -1 else {
            return .failure(Failure(description: "\(directories.count) layer directories for \(image.rootFS?.layers?.count ?? 0) layers"))
        }
        return .success(directories)
    }

    /// Whether this process may see overlay's opaque marks. They are `trusted.*` attributes,
    /// which Linux shows only to CAP_SYS_ADMIN: without it a read gives "no attribute", and an
    /// opaque directory would look like a plain one (its lower contents still there). So without
    /// it the storage is not read at all.
    public static var canSeeOpaqueMarks: Bool {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") }),
            let mask = UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16)
        else { return false }
        return mask & (1 << 21) != 0
    }

    /// The image's layer directories, bottom first, or why this process cannot read them.
    public static func directories(of image: ImageInspect) -> Result<[String], Failure> {
        guard canSeeOpaqueMarks else {
            return .failure(Failure(description: "this process lacks CAP_SYS_ADMIN, without which overlay's opaque directories cannot be seen"))
        }
        let directories: [String]
        switch layout(of: image) {
        case .success(let found): directories = found
        case .failure(let failure): return .failure(failure)
        }
        for directory in directories {
            var info = stat()
            guard stat(directory, &info) == 0 else {
                return .failure(Failure(description: "\(directory) is not here (\(String(cString: strerror(errno)))): a remote engine?"))
            }
            guard info.st_mode & S_IFMT == S_IFDIR, access(directory, R_OK | X_OK) == 0 else {
                return .failure(Failure(description: "\(directory) cannot be read by this user (the engine's data root is root's)"))
            }
        }
        return .success(directories)
    }

    /// Indexes one layer directory; throws when any part of it cannot be read (the image was
    /// removed meanwhile, say), so that the caller reads the layer another way.
    public static func read(_ directory: String, key: String, options: ImageExport.Options) throws -> LayerBlob {
        guard canSeeOpaqueMarks else { throw Failure(description: "\(directory): overlay's opaque marks are hidden from a process without CAP_SYS_ADMIN") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1 << 20, alignment: 64)
        defer { buffer.deallocate() }
        var walker = Walker(indexer: LayerIndexer(key: key, options: options), buffer: buffer)
        let root = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard root >= 0 else { throw Failure(description: "\(directory): \(String(cString: strerror(errno)))") }
        defer { close(root) }
        try walker.walk(root, path: "", display: directory)
        return walker.indexer.finish()
    }

    private struct Walker {
        var indexer: LayerIndexer
        /// (device, inode) of files with more than one link → the path seen first.
        var links: [UInt64: [UInt64: String]] = [:]
        /// Where file bytes are read into, a chunk at a time.
        let buffer: UnsafeMutableRawBufferPointer
        init(indexer: LayerIndexer, buffer: UnsafeMutableRawBufferPointer) {
            self.indexer = indexer
            self.buffer = buffer
        }

        mutating func walk(_ directory: Int32, path: String, display: String) throws {
            for name in try Self.names(directory, display: display) {
                let child = path.isEmpty ? name : path + "/" + name
                var info = stat()
                guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { throw failure(display, child) }
                let mode = UInt32(info.st_mode & 0o7777)
                let uid = Int64(info.st_uid), gid = Int64(info.st_gid)
                switch info.st_mode & S_IFMT {
                case S_IFDIR:
                    let fd = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                    guard fd >= 0 else { throw failure(display, child) }
                    defer { close(fd) }
                    try indexer.add(LayerFile(path: child, kind: .directory, size: 0, mode: mode, uid: uid, gid: gid)) { _ in }
                    if Self.isOpaque(fd) { indexer.hideBelow(child) }
                    try walk(fd, path: child, display: display)
                case S_IFREG:
                    if info.st_nlink > 1 {
                        if let first = links[UInt64(info.st_dev)]?[UInt64(info.st_ino)] {
                            try indexer.add(LayerFile(path: child, kind: .hardlink, size: 0, mode: mode, uid: uid, gid: gid, linkTarget: first)) { _ in }
                            continue
                        }
                        links[UInt64(info.st_dev), default: [:]][UInt64(info.st_ino)] = child
                    }
                    let file = LayerFile(path: child, kind: .file, size: Int64(info.st_size), mode: mode, uid: uid, gid: gid)
                    var failed = false
                    let buffer = self.buffer
                    try indexer.add(file) { body in
                        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
                        guard fd >= 0 else { failed = true; return }
                        defer { close(fd) }
                        while true {
                            let count = SystemCalls.read(fd, buffer.baseAddress, buffer.count)
                            if count == 0 { return }
                            guard count > 0 else {
                                if errno == EINTR { continue }
                                failed = true
                                return
                            }
                            try body(UnsafeRawBufferPointer(rebasing: buffer[..<count]))
                        }
                    }
                    if failed { throw failure(display, child) }
                case S_IFLNK:
                    var target = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
                    let count = readlinkat(directory, name, &target, target.count - 1)
                    guard count >= 0 else { throw failure(display, child) }
                    let text = String(decoding: target[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    try indexer.add(LayerFile(path: child, kind: .symlink, size: 0, mode: mode, uid: uid, gid: gid, linkTarget: text)) { _ in }
                case S_IFCHR where info.st_rdev == 0:
                    indexer.delete(child)
                case S_IFSOCK:
                    // The engine's tar leaves sockets out.
                    continue
                default:
                    try indexer.add(LayerFile(path: child, kind: .other, size: 0, mode: mode, uid: uid, gid: gid)) { _ in }
                }
            }
        }

        func failure(_ display: String, _ path: String) -> Failure {
            Failure(description: "\(display)/\(path): \(String(cString: strerror(errno)))")
        }

        /// The directory's entry names in byte order.
        static func names(_ directory: Int32, display: String) throws -> [String] {
            let copy = dup(directory)
            guard copy >= 0, let stream = fdopendir(copy) else { throw Failure(description: "\(display): \(String(cString: strerror(errno)))") }
            defer { closedir(stream) }
            var names: [String] = []
            errno = 0
            while let entry = readdir(stream) {
                let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                    String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
                }
                if name != "." && name != ".." { names.append(name) }
            }
            guard errno == 0 else { throw Failure(description: "\(display): \(String(cString: strerror(errno)))") }
            return names.sorted(by: utf8Precedes)
        }

        static func isOpaque(_ fd: Int32) -> Bool { imagegen_overlay_opaque(fd) == 1 }
    }
}

extension LayerStorage.Failure: ClassifiedError {
    public var exitStatus: ExitStatus { .failed }
}
