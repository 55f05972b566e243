import CArchive
#if canImport(Glibc)
import Glibc
#endif
import ContainerBasics
import ImageGenValues

/// Reads a tar (optionally compressed) entry by entry through libarchive, pulling its bytes from
/// a source closure as it goes, so an archive of any size is read with bounded memory.
public final class ArchiveReader {
    public struct Entry: Sendable, Hashable {
        public var path: String
        public var kind: Kind
        public var mode: UInt32
        public var size: Int64
        public var uid: Int64
        public var gid: Int64
        public var userName: String?
        public var groupName: String?
        public var mtime: Int64
        public var linkTarget: String?
        public var hardlinkTarget: String?

        public enum Kind: String, Sendable { case file, directory, symlink, hardlink, other }
    }

    /// Returns the next bytes of the archive, or an empty array at its end.
    public typealias Source = () throws -> [UInt8]

    private var archive: OpaquePointer?
    private let feeder: Feeder

    public init(source: @escaping Source) throws {
        LibArchiveSetup.ensureUTF8Locale()
        feeder = Feeder(source: source)
        guard let archive = archive_read_new() else { throw ArchiveError(message: "archive_read_new failed") }
        self.archive = archive
        archive_read_support_format_tar(archive)
        archive_read_support_filter_gzip(archive)
        archive_read_support_filter_none(archive)
        let client = Unmanaged.passUnretained(feeder).toOpaque()
        let status = archive_read_open(
            archive, client, nil,
            { _, client, buffer in
                guard let client, let buffer else { return -1 }
                let feeder = Unmanaged<Feeder>.fromOpaque(client).takeUnretainedValue()
                return feeder.fill(buffer)
            }, nil)
        guard status == ARCHIVE_OK else {
            throw feeder.failure ?? ArchiveError.from(archive, "open archive")
        }
    }

    /// Reads a whole in-memory archive.
    public convenience init(bytes: [UInt8]) throws {
        var delivered = false
        try self.init {
            if delivered { return [] }
            delivered = true
            return bytes
        }
    }

    deinit {
        if let archive { archive_read_free(archive) }
    }

    /// The next entry's header, or nil at the end. Its data must be read (or skipped) next.
    public func next() throws -> Entry? {
        guard let archive else { return nil }
        var header: OpaquePointer?
        let status = archive_read_next_header(archive, &header)
        if status == ARCHIVE_EOF { return nil }
        guard status == ARCHIVE_OK || status == ARCHIVE_WARN, let header else {
            throw feeder.failure ?? ArchiveError.from(archive, "read archive header")
        }
        let type = archive_entry_filetype(header)
        let kind: Entry.Kind
        switch mode_t(type) {
        case S_IFREG: kind = archive_entry_hardlink(header) != nil ? .hardlink : .file
        case S_IFDIR: kind = .directory
        case S_IFLNK: kind = .symlink
        default: kind = archive_entry_hardlink(header) != nil ? .hardlink : .other
        }
        func text(_ pointer: UnsafePointer<CChar>?) -> String? { pointer.map { String(cString: $0) } }
        return Entry(
            path: text(archive_entry_pathname_utf8(header)) ?? text(archive_entry_pathname(header)) ?? "",
            kind: kind, mode: UInt32(archive_entry_perm(header)), size: Int64(archive_entry_size(header)),
            uid: Int64(archive_entry_uid(header)), gid: Int64(archive_entry_gid(header)),
            userName: text(archive_entry_uname(header)), groupName: text(archive_entry_gname(header)),
            mtime: Int64(archive_entry_mtime(header)),
            linkTarget: text(archive_entry_symlink_utf8(header)) ?? text(archive_entry_symlink(header)),
            hardlinkTarget: text(archive_entry_hardlink(header)))
    }

    /// Reads the current entry's data in chunks, handing each to `body`.
    public func readData(_ body: (UnsafeRawBufferPointer) throws -> Void) throws {
        guard let archive else { return }
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        while true {
            let status = archive_read_data_block(archive, &buffer, &size, &offset)
            if status == ARCHIVE_EOF { return }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN else {
                throw feeder.failure ?? ArchiveError.from(archive, "read archive data")
            }
            if let buffer, size > 0 { try body(UnsafeRawBufferPointer(start: buffer, count: size)) }
        }
    }

    /// The next block of the current entry's data, or nil at its end (pull-style, so another
    /// reader can take this entry as its source: a tar inside a tar).
    public func nextBlock() throws -> [UInt8]? {
        guard let archive else { return nil }
        var buffer: UnsafeRawPointer?
        var size = 0
        var offset: la_int64_t = 0
        while true {
            let status = archive_read_data_block(archive, &buffer, &size, &offset)
            if status == ARCHIVE_EOF { return nil }
            guard status == ARCHIVE_OK || status == ARCHIVE_WARN else {
                throw feeder.failure ?? ArchiveError.from(archive, "read archive data")
            }
            if let buffer, size > 0 { return Array(UnsafeRawBufferPointer(start: buffer, count: size)) }
        }
    }

    /// The current entry's data, whole (for small entries).
    public func readAll(limit: Int = 64 << 20) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try readData { chunk in
            guard bytes.count + chunk.count <= limit else { throw ArchiveError(message: "entry larger than \(limit) bytes") }
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }

    /// Holds the bytes libarchive reads until it asks for more (it keeps the pointer until then).
    private final class Feeder {
        let source: Source
        var storage = UnsafeMutableRawBufferPointer.allocate(byteCount: 0, alignment: 16)
        var failure: (any Error)?

        init(source: @escaping Source) { self.source = source }

        deinit { storage.deallocate() }

        func fill(_ buffer: UnsafeMutablePointer<UnsafeRawPointer?>) -> la_ssize_t {
            let chunk: [UInt8]
            do {
                chunk = try source()
            } catch {
                failure = error
                return -1
            }
            guard !chunk.isEmpty else { return 0 }
            if storage.count < chunk.count {
                storage.deallocate()
                storage = .allocate(byteCount: chunk.count, alignment: 16)
            }
            chunk.withUnsafeBytes { storage.copyMemory(from: $0) }
            buffer.pointee = UnsafeRawPointer(storage.baseAddress)
            return la_ssize_t(chunk.count)
        }
    }
}
