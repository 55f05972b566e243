#if os(Linux)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation

/// The system calls whose spelling differs between Linux (Glibc) and macOS (Darwin), in one
/// place: the rest of imagegen calls these and stays the same on both. Every branch here is
/// compiled on its own platform only; the Darwin ones are built by ci.yml's macOS job.
public enum SystemCalls {
    /// The last system call's error number.
    public static var errorNumber: Int32 {
        #if os(Linux)
        Glibc.errno
        #else
        Darwin.errno
        #endif
    }

    /// `write(2)`.
    public static func write(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if os(Linux)
        Glibc.write(fd, buffer, count)
        #else
        Darwin.write(fd, buffer, count)
        #endif
    }

    /// `read(2)`.
    public static func read(_ fd: Int32, _ buffer: UnsafeMutableRawPointer?, _ count: Int) -> Int {
        #if os(Linux)
        Glibc.read(fd, buffer, count)
        #else
        Darwin.read(fd, buffer, count)
        #endif
    }

    /// A file's modification time in nanoseconds since the epoch.
    public static func modificationNanoseconds(_ info: stat) -> Int64 {
        #if os(Linux)
        nanoseconds(info.st_mtim)
        #else
        nanoseconds(info.st_mtimespec)
        #endif
    }

    /// A file's status-change time in nanoseconds since the epoch.
    public static func changeNanoseconds(_ info: stat) -> Int64 {
        #if os(Linux)
        nanoseconds(info.st_ctim)
        #else
        nanoseconds(info.st_ctimespec)
        #endif
    }

    private static func nanoseconds(_ time: timespec) -> Int64 { Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec) }

    /// `SOCK_STREAM`, as the `Int32` `socket(2)` and `getaddrinfo(3)` take.
    public static var streamSocketType: Int32 {
        #if os(Linux)
        Int32(SOCK_STREAM.rawValue)
        #else
        SOCK_STREAM
        #endif
    }

    /// A stream socket in `domain` whose descriptor is closed on exec (-1 on failure, errno set).
    public static func streamSocketClosedOnExec(domain: Int32) -> Int32 {
        #if os(Linux)
        return socket(domain, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        #else
        let fd = socket(domain, SOCK_STREAM, 0)
        if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return fd
        #endif
    }

    /// A pair of connected stream sockets closed on exec, in `fds` (0, or -1 with errno set).
    public static func streamSocketPairClosedOnExec(_ fds: inout [Int32]) -> Int32 {
        #if os(Linux)
        return socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        #else
        let result = socketpair(AF_UNIX, SOCK_STREAM, 0, &fds)
        if result == 0 { for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) } }
        return result
        #endif
    }

    /// Tells the kernel a file will be read start to end (Linux; macOS reads ahead by itself).
    public static func adviseSequential(_ fd: Int32) {
        #if os(Linux)
        _ = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL)
        #endif
    }

    /// `send(2)` that never raises SIGPIPE on a closed peer (Linux: `MSG_NOSIGNAL`; macOS: the
    /// socket's `SO_NOSIGPIPE`, set here on first use).
    public static func sendWithoutSignal(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
        #if os(Linux)
        return send(fd, buffer, count, Int32(MSG_NOSIGNAL))
        #else
        var on: Int32 = 1
        _ = setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &on, socklen_t(MemoryLayout<Int32>.size))
        return send(fd, buffer, count, 0)
        #endif
    }

    /// File type bits of `stat.st_mode` as libarchive's `archive_entry_set_filetype` takes them.
    public static let directoryType = UInt32(S_IFDIR)
    public static let symlinkType = UInt32(S_IFLNK)
    public static let regularFileType = UInt32(S_IFREG)

    /// This process's executable, links resolved.
    public static func executablePath() -> String {
        #if os(Linux)
        URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path
        #else
        (Bundle.main.executablePath.map { URL(fileURLWithPath: $0).resolvingSymlinksInPath().path }) ?? CommandLine.arguments[0]
        #endif
    }
}
