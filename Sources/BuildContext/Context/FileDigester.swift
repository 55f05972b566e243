import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics
import ImageGenValues

/// A file's SHA-256 and what a secret scan of it found.
public struct FileDigest: Sendable, Hashable {
    public var sha256: String
    public var secrets: [SecretFinding]
    public var binary: Bool
}

/// Hashes files (and scans them for secrets in the same read) on all cores, reusing the
/// ``FileDigestCache`` for files whose stamps have not changed.
public enum FileDigester {
    static let chunkSize = 1 << 20

    /// Digests of every regular file on disk among `entries`, keyed by file (device and inode).
    public static func digest(_ entries: [ContextEntry], cache: FileDigestCache, scanSecrets: Bool = true) throws -> [FileKey: FileDigest] {
        var results: [FileKey: FileDigest] = [:]
        results.reserveCapacity(entries.count)
        var pending: [ContextEntry] = []
        for entry in entries where entry.kind == .file {
            guard entry.sourcePath != nil, let stamp = entry.stamp else { continue }
            if results[stamp.key] != nil { continue }
            if let record = cache.lookup(stamp: stamp) {
                results[stamp.key] = FileDigest(sha256: record.sha256, secrets: [], binary: record.binary)
            } else {
                results[stamp.key] = FileDigest(sha256: "", secrets: [], binary: false)
                pending.append(entry)
            }
        }
        guard !pending.isEmpty else { return results }

        // Largest first, so that two big files do not end up on the same core last.
        let work = pending.sorted { $0.size > $1.size }
        let outcomes = ParallelMap.run(count: work.count) { index -> Result<FileDigest, FileSystemError> in
            let entry = work[index]
            let readAt = cache.now()
            do {
                let digest = try digestFile(entry, scanSecrets: scanSecrets)
                if digest.secrets.isEmpty, let stamp = entry.stamp {
                    cache.store(.init(stamp: stamp, sha256: digest.sha256, binary: digest.binary), readAt: readAt)
                }
                return .success(digest)
            } catch let error as FileSystemError {
                return .failure(error)
            } catch {
                return .failure(FileSystemError(path: entry.sourcePath ?? entry.path, operation: "read", reason: "\(error)"))
            }
        }
        for (entry, outcome) in zip(work, outcomes) {
            if let key = entry.stamp?.key { results[key] = try outcome.get() }
        }
        return results
    }

    /// Reads one file once: SHA-256 and secret scan over the same bytes.
    static func digestFile(_ entry: ContextEntry, scanSecrets: Bool) throws -> FileDigest {
        guard let path = entry.sourcePath else { throw FileSystemError(path: entry.path, operation: "read", reason: "no source") }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError.errno("open", path) }
        defer { close(fd) }
        SystemCalls.adviseSequential(fd)
        var hasher = SHA256()
        var scanner = SecretScanner()
        var total: Int64 = 0
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: chunkSize, alignment: 16)
        defer { buffer.deallocate() }
        while true {
            let count = read(fd, buffer.baseAddress, chunkSize)
            if count < 0 {
                if errno == EINTR { continue }
                throw FileSystemError.errno("read", path)
            }
            if count == 0 { break }
            let chunk = UnsafeRawBufferPointer(rebasing: buffer[0..<count])
            hasher.update(bufferPointer: chunk)
            if scanSecrets { scanner.feed(chunk) }
            total += Int64(count)
        }
        if total != entry.size {
            throw FileSystemError(path: path, operation: "read", reason: "it changed while being read (size \(entry.size) became \(total))")
        }
        let findings = scanSecrets ? scanner.finish() : []
        return FileDigest(sha256: hasher.finalize().hexString, secrets: findings, binary: scanner.isBinary)
    }
}

public func nowNanoseconds() -> Int64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return Int64(now.tv_sec) * 1_000_000_000 + Int64(now.tv_nsec)
}
