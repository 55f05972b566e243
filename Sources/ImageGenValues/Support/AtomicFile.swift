import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics

/// Writes that never leave a half-written file behind: the bytes go to a temporary file in the
/// same directory, are flushed, and the temporary file is renamed over the target.
public enum AtomicFile {
    public static func write(_ bytes: [UInt8], to path: String, createDirectories: Bool = false, mode: mode_t = 0o644) throws {
        try write(to: path, createDirectories: createDirectories, mode: mode) { fd, temporary in
            try writeAll(fd: fd, bytes, path: temporary)
        }
    }

    /// Lets `body` write into a temporary file (given its descriptor and path), then flushes it
    /// and renames it over `path`. If `body` throws, `path` is left as it was.
    public static func write(
        to path: String, createDirectories: Bool = false, mode: mode_t = 0o644,
        _ body: (_ fd: Int32, _ temporaryPath: String) throws -> Void
    ) throws {
        let directory = (path as NSString).deletingLastPathComponent
        if createDirectories, !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        let (fd, temporary) = try createTemporary(near: path, mode: mode)
        do {
            defer { close(fd) }
            try body(fd, temporary)
            guard fsync(fd) == 0 else { throw FileSystemError.errno("flush", temporary) }
        } catch {
            unlink(temporary)
            throw error
        }
        guard rename(temporary, path) == 0 else {
            let error = FileSystemError.errno("rename into place", path)
            unlink(temporary)
            throw error
        }
    }

    /// Opens a new, empty temporary file next to `path` (same file system, so rename is atomic).
    static func createTemporary(near path: String, mode: mode_t = 0o644) throws -> (Int32, String) {
        let directory = (path as NSString).deletingLastPathComponent
        let name = (path as NSString).lastPathComponent
        var template = Array(((directory.isEmpty ? "." : directory) + "/.\(name).tmp-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw FileSystemError.errno("create a temporary file for", path) }
        let temporary = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        fchmod(fd, mode)
        return (fd, temporary)
    }

    public static func writeAll(fd: Int32, _ bytes: [UInt8], path: String) throws {
        try bytes.withUnsafeBytes { try writeAll(fd: fd, $0, path: path) }
    }

    public static func writeAll(fd: Int32, _ buffer: UnsafeRawBufferPointer, path: String) throws {
        var offset = 0
        while offset < buffer.count {
            let written = SystemCalls.write(fd, buffer.baseAddress! + offset, buffer.count - offset)
            if written < 0 {
                if errno == EINTR { continue }
                throw FileSystemError.errno("write", path)
            }
            offset += written
        }
    }
}
