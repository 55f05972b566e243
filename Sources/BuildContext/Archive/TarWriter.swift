import CArchive
import Foundation
#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics
import ImageGenValues

/// A deterministic tar of a build context, produced a chunk at a time on demand.
///
/// Every entry is written with mtime 0, uid and gid 0 and no owner names, the mode from
/// ``ContextEntry`` and the pax (restricted) format, in the order given (callers pass
/// ``Array/normalizedForArchive()`` order). Because chunks are made only when asked for, a slow
/// reader (an HTTP upload) holds at most one chunk in memory: that is the backpressure.
public final class TarWriter {
    static let readSize = 1 << 20

    private let entries: [ContextEntry]
    private var archive: OpaquePointer?
    private let output: OutputBuffer
    private var index = 0
    private var openFile: (fd: Int32, entry: ContextEntry, remaining: Int64)?
    private var finished = false
    private let readBuffer: UnsafeMutableRawBufferPointer

    /// Bytes produced so far.
    public private(set) var bytesProduced: Int64 = 0

    /// With `gzip`, the tar is compressed, still deterministically: no timestamp or name in the
    /// gzip header, and no padding after the last block.
    public init(entries: [ContextEntry], gzip: Bool = false) throws {
        LibArchiveSetup.ensureUTF8Locale()
        self.entries = entries
        output = OutputBuffer()
        readBuffer = .allocate(byteCount: Self.readSize, alignment: 16)
        guard let archive = archive_write_new() else { throw ArchiveError(message: "archive_write_new failed") }
        self.archive = archive
        guard archive_write_set_format_pax_restricted(archive) == ARCHIVE_OK,
            archive_write_set_bytes_per_block(archive, 10240) == ARCHIVE_OK,
            archive_write_set_bytes_in_last_block(archive, 1) == ARCHIVE_OK
        else { throw ArchiveError.from(archive, "configure tar writer") }
        if gzip {
            guard archive_write_add_filter_gzip(archive) == ARCHIVE_OK,
                archive_write_set_filter_option(archive, "gzip", "timestamp", nil) == ARCHIVE_OK
            else { throw ArchiveError.from(archive, "configure gzip") }
        }
        let client = Unmanaged.passUnretained(output).toOpaque()
        guard
            archive_write_open2(
                archive, client, nil,
                { _, client, buffer, length in
                    guard let client, let buffer else { return -1 }
                    let output = Unmanaged<OutputBuffer>.fromOpaque(client).takeUnretainedValue()
                    return output.take(UnsafeRawBufferPointer(start: buffer, count: length))
                }, nil, nil) == ARCHIVE_OK
        else { throw ArchiveError.from(archive, "open tar writer") }
    }

    deinit {
        if let file = openFile { close(file.fd) }
        if let archive { archive_write_free(archive) }
        readBuffer.deallocate()
    }

    /// The next chunk of the tar, or nil when the archive is complete.
    public func next() throws -> [UInt8]? {
        while output.bytes.isEmpty {
            guard try step() else { return nil }
        }
        let chunk = output.bytes
        output.bytes.removeAll(keepingCapacity: true)
        bytesProduced += Int64(chunk.count)
        return chunk
    }

    /// Streams the whole tar to a file descriptor: libarchive's output goes straight to it,
    /// with no copy in between.
    public func write(to fd: Int32, path: String) throws {
        output.fd = fd
        output.path = path
        defer { output.fd = -1 }
        while try step() {
            if let failure = output.failure { throw failure }
        }
        if let failure = output.failure { throw failure }
        bytesProduced += output.written
    }

    /// Advances the archive by one piece (a header, a chunk of a file, or the end); false once done.
    private func step() throws -> Bool {
        guard !finished, let archive else { return false }
        if openFile != nil {
            try copyFileChunk(archive)
        } else if index < entries.count {
            let entry = entries[index]
            index += 1
            try writeEntry(entry, archive)
        } else {
            guard archive_write_close(archive) == ARCHIVE_OK else { throw output.failure ?? ArchiveError.from(archive, "finish tar") }
            finished = true
        }
        return true
    }

    /// The whole tar in memory (for tests and small contexts).
    public func collect() throws -> [UInt8] {
        var all: [UInt8] = []
        while let chunk = try next() { all.append(contentsOf: chunk) }
        return all
    }

    // MARK: - Entries

    private func writeEntry(_ entry: ContextEntry, _ archive: OpaquePointer) throws {
        guard let header = archive_entry_new() else { throw ArchiveError(message: "archive_entry_new failed") }
        defer { archive_entry_free(header) }
        archive_entry_set_pathname_utf8(header, entry.path)
        archive_entry_set_perm(header, mode_t(entry.mode))
        archive_entry_set_mtime(header, 0, 0)
        archive_entry_set_uid(header, entry.uid)
        archive_entry_set_gid(header, entry.gid)
        switch entry.kind {
        case .directory:
            archive_entry_set_filetype(header, SystemCalls.directoryType)
            archive_entry_set_size(header, 0)
        case .symlink:
            archive_entry_set_filetype(header, SystemCalls.symlinkType)
            archive_entry_set_symlink_utf8(header, entry.linkTarget ?? "")
            archive_entry_set_size(header, 0)
        case .file:
            archive_entry_set_filetype(header, SystemCalls.regularFileType)
            archive_entry_set_size(header, la_int64_t(entry.size))
        }
        guard archive_write_header(archive, header) == ARCHIVE_OK else {
            throw output.failure ?? ArchiveError.from(archive, "write tar header for \(entry.path)")
        }
        guard entry.kind == .file else { return }
        if let data = entry.inlineData {
            try data.withUnsafeBytes { try writeData($0, archive, entry) }
            return
        }
        guard let source = entry.sourcePath else { throw ArchiveError(message: "\(entry.path): no source file") }
        let fd = open(source, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw FileSystemError.errno("open", source) }
        SystemCalls.adviseSequential(fd)
        openFile = (fd, entry, entry.size)
        if entry.size == 0 { try closeFile() }
    }

    private func copyFileChunk(_ archive: OpaquePointer) throws {
        guard var file = openFile, let source = file.entry.sourcePath else { return }
        let wanted = Int(min(Int64(Self.readSize), file.remaining))
        let count = read(file.fd, readBuffer.baseAddress, wanted)
        if count < 0 {
            if errno == EINTR { return }
            throw FileSystemError.errno("read", source)
        }
        if count == 0 {
            throw FileSystemError(path: source, operation: "archive", reason: "it shrank while being archived (expected \(file.entry.size) bytes)")
        }
        try writeData(UnsafeRawBufferPointer(rebasing: readBuffer[0..<count]), archive, file.entry)
        file.remaining -= Int64(count)
        openFile = file
        if file.remaining == 0 { try closeFile() }
    }

    /// Closes the current file, refusing it if it changed since it was listed and hashed.
    private func closeFile() throws {
        guard let file = openFile else { return }
        openFile = nil
        defer { close(file.fd) }
        var info = stat()
        guard fstat(file.fd, &info) == 0 else { throw FileSystemError.errno("stat", file.entry.sourcePath ?? file.entry.path) }
        let now = ContextEntry.file(path: file.entry.path, source: file.entry.sourcePath ?? "", info: info)
        if let stamp = file.entry.stamp, now.stamp != stamp {
            throw FileSystemError(
                path: file.entry.sourcePath ?? file.entry.path, operation: "archive",
                reason: "it changed while the context was being built; run again")
        }
    }

    private func writeData(_ bytes: UnsafeRawBufferPointer, _ archive: OpaquePointer, _ entry: ContextEntry) throws {
        var offset = 0
        while offset < bytes.count {
            let written = archive_write_data(archive, bytes.baseAddress! + offset, bytes.count - offset)
            guard written > 0 else { throw output.failure ?? ArchiveError.from(archive, "write \(entry.path) into tar") }
            offset += written
        }
    }

    /// Where libarchive's output goes: collected for ``next()``, or written to `fd`.
    private final class OutputBuffer {
        var bytes: [UInt8] = []
        var fd: Int32 = -1
        var path = ""
        var written: Int64 = 0
        var failure: (any Error)?

        func take(_ chunk: UnsafeRawBufferPointer) -> la_ssize_t {
            guard fd >= 0 else {
                bytes.append(contentsOf: chunk)
                return la_ssize_t(chunk.count)
            }
            do {
                try AtomicFile.writeAll(fd: fd, chunk, path: path)
                written += Int64(chunk.count)
                return la_ssize_t(chunk.count)
            } catch {
                failure = error
                return -1
            }
        }
    }
}

enum LibArchiveSetup {
    /// libarchive converts names with the C library's locale; in the default "C" locale a
    /// non-ASCII name is written empty or crashes the pax writer. Switch once to C.UTF-8.
    static let utf8Locale: Bool = {
        setlocale(LC_CTYPE, "C.UTF-8") != nil
    }()

    static func ensureUTF8Locale() { _ = utf8Locale }
}
