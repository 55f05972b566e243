import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// The digest cache's rule: a remembered digest is reused only while device, inode, size, mtime
/// and ctime all match, and only for files that were not written within the racy window.
@Suite("Digest cache")
struct FileDigestCacheTests {
    func setMtime(_ path: String, secondsAgo: Int) {
        let when = Int(Date().timeIntervalSince1970) - secondsAgo
        var times = [timespec(tv_sec: when, tv_nsec: 0), timespec(tv_sec: when, tv_nsec: 0)]
        utimensat(AT_FDCWD, path, &times, 0)
    }

    func stamp(_ path: String) -> FileStamp? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return ContextEntry.file(path: "x", source: path, info: info).stamp
    }

    func entry(_ path: String) -> ContextEntry {
        var info = stat()
        lstat(path, &info)
        return ContextEntry.file(path: "context/x", source: path, info: info)
    }

    /// A clock past the racy window of everything written so far: with it a file written just
    /// now counts as settled, and its digest may be kept (no waiting out the window).
    static let ahead: @Sendable () -> Int64 = { nowNanoseconds() + 2 * FileDigestCache.racyWindowNanoseconds }

    /// Kept as a call site: with the clock ``ahead``, a file need not age.
    func age(_ path: String) {}

    @Test("an unchanged file is not read again; the cache survives in its file")
    func reuse() throws {
        let scratch = Scratch()
        let file = scratch.write("a.txt", "hello\n")
        setMtime(file, secondsAgo: 60)
        age(file)
        let first = FileDigestCache(file: scratch.url("cache/digests"), now: Self.ahead)
        let digest = try FileDigester.digest([entry(file)], cache: first)
        #expect(first.misses == 1)
        try first.save()

        let second = FileDigestCache(file: scratch.url("cache/digests"), now: Self.ahead)
        let again = try FileDigester.digest([entry(file)], cache: second)
        #expect(second.hits == 1 && second.misses == 0)
        #expect(again == digest)
    }

    @Test("an edit in place with the same size and mtime is caught by the ctime")
    func sameSizeAndMtime() throws {
        let scratch = Scratch()
        let file = scratch.write("a.txt", "hello\n")
        setMtime(file, secondsAgo: 60)
        age(file)
        let cache = FileDigestCache(file: scratch.url("digests"), now: Self.ahead)
        let before = try FileDigester.digest([entry(file)], cache: cache)[entry(file).stamp!.key]
        try cache.save()
        let oldStamp = try #require(stamp(file))

        // Same size, same mtime, same inode: only the ctime moves (the kernel sets it on write
        // and on utimensat, and nothing can set it back).
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.write(Data("HELLO\n".utf8))
        try handle.close()
        var times = [
            timespec(tv_sec: Int(oldStamp.mtimeNanoseconds / 1_000_000_000), tv_nsec: Int(oldStamp.mtimeNanoseconds % 1_000_000_000)),
            timespec(tv_sec: Int(oldStamp.mtimeNanoseconds / 1_000_000_000), tv_nsec: Int(oldStamp.mtimeNanoseconds % 1_000_000_000)),
        ]
        utimensat(AT_FDCWD, file, &times, 0)
        let newStamp = try #require(stamp(file))
        #expect(newStamp.size == oldStamp.size && newStamp.mtimeNanoseconds == oldStamp.mtimeNanoseconds && newStamp.inode == oldStamp.inode)
        #expect(newStamp.ctimeNanoseconds != oldStamp.ctimeNanoseconds)

        let reloaded = FileDigestCache(file: scratch.url("digests"), now: Self.ahead)
        let after = try FileDigester.digest([entry(file)], cache: reloaded)[entry(file).stamp!.key]
        #expect(reloaded.misses == 1)
        #expect(after?.sha256 != before?.sha256)
        #expect(after?.sha256 == sha256Hex("HELLO\n"))
    }

    @Test("a file replaced by another with the same size and mtime is caught by the inode")
    func replaced() throws {
        let scratch = Scratch()
        let file = scratch.write("a.txt", "hello\n")
        setMtime(file, secondsAgo: 60)
        age(file)
        let cache = FileDigestCache(file: scratch.url("digests"), now: Self.ahead)
        _ = try FileDigester.digest([entry(file)], cache: cache)
        try cache.save()
        let oldStamp = try #require(stamp(file))

        let replacement = scratch.write("b.txt", "jello\n")
        var times = [
            timespec(tv_sec: Int(oldStamp.mtimeNanoseconds / 1_000_000_000), tv_nsec: 0),
            timespec(tv_sec: Int(oldStamp.mtimeNanoseconds / 1_000_000_000), tv_nsec: Int(oldStamp.mtimeNanoseconds % 1_000_000_000)),
        ]
        utimensat(AT_FDCWD, replacement, &times, 0)
        rename(replacement, file)
        #expect(stamp(file)?.inode != oldStamp.inode)

        let reloaded = FileDigestCache(file: scratch.url("digests"), now: Self.ahead)
        let after = try FileDigester.digest([entry(file)], cache: reloaded)[entry(file).stamp!.key]
        #expect(reloaded.misses == 1)
        #expect(after?.sha256 == sha256Hex("jello\n"))
    }

    @Test("a file written just now is hashed again next time (racily clean)")
    func racy() throws {
        let scratch = Scratch()
        let file = scratch.write("fresh.txt", "just written\n")
        // The wall clock: the file is younger than the window.
        let cache = FileDigestCache(file: scratch.url("digests"))
        _ = try FileDigester.digest([entry(file)], cache: cache)
        try cache.save()
        let reloaded = FileDigestCache(file: scratch.url("digests"))
        _ = try FileDigester.digest([entry(file)], cache: reloaded)
        #expect(reloaded.hits == 0 && reloaded.misses == 1)
    }

    @Test("a corrupt cache file is ignored, not trusted")
    func corrupt() throws {
        let scratch = Scratch()
        let file = scratch.write("a.txt", "hello\n")
        let stamp = try #require(entry(file).stamp)
        scratch.write(
            "digests",
            "\(FileDigestCache.header)\(stamp.device)\t\(stamp.inode)\tnot-a-number\n\(stamp.device)\t\(stamp.inode)\t6\t\(stamp.mtimeNanoseconds)\t\(stamp.ctimeNanoseconds)\t\(String(repeating: "0", count: 63))\t0\n"
        )
        let cache = FileDigestCache(file: scratch.url("digests"), now: Self.ahead)
        #expect(try FileDigester.digest([entry(file)], cache: cache)[stamp.key]?.sha256 == sha256Hex("hello\n"))
        #expect(cache.misses == 1)
    }
}
