#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics

/// Reads a small text file (a `.dockerignore`, a manifest) whole.
package func readSmallFile(_ path: String) throws -> String {
    String(decoding: try readFileBytes(path, limit: 16 << 20), as: UTF8.self)
}

/// Reads a file whole, in one allocation of its size (files here are read on every run, so
/// `FileManager`'s copies through `Data` show), refusing one larger than `limit`.
public func readFileBytes(_ path: String, limit: Int) throws -> [UInt8] {
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
