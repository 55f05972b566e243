import CPseudoTerminal
import Foundation

/// Runs a program on a real pseudo-terminal, as a user's shell would: what it writes is read
/// from the terminal's master side, and the terminal can be resized while it runs.
public enum PseudoTerminal {
    public struct Result: Sendable {
        public var status: Int32
        /// Everything written to the terminal, escapes included.
        public var output: String
    }

    /// Something to do to the terminal once its output shows a marker.
    public enum Action: Sendable {
        /// Resize to this many columns (the kernel sends SIGWINCH).
        case resize(columns: Int)
        /// Type these bytes (`"\u{03}"` is Ctrl-C: the line discipline sends SIGINT).
        case type(String)
    }

    /// Runs `executable` on a terminal `columns` wide, doing each of `actions` (in order) once
    /// the output contains its marker. The TERM and COLUMNS of this process are not passed on
    /// unless `environment` sets them.
    public static func run(
        _ executable: String, _ arguments: [String], directory: String, columns: Int, rows: Int = 40,
        environment: [String: String] = [:], actions: [(marker: String, action: Action)] = [], timeoutSeconds: Double = 300
    ) throws -> Result {
        var env = ProcessInfo.processInfo.environment
        env["COLUMNS"] = nil
        env["LINES"] = nil
        env["TERM"] = "xterm-256color"
        env["NO_COLOR"] = nil
        for (key, value) in environment { env[key] = value }
        let argv = [executable] + arguments
        let envp = env.map { "\($0.key)=\($0.value)" }
        var master: Int32 = -1
        let pid = withCStrings(argv) { argvPointer in
            withCStrings(envp) { envPointer in
                imagegen_pty_spawn(executable, argvPointer, envPointer, directory, UInt16(rows), UInt16(columns), &master)
            }
        }
        guard pid > 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(master) }

        var output: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var pending = actions[...]
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while Date() < deadline {
            var poller = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            let ready = poll(&poller, 1, 200)
            if ready < 0, errno == EINTR { continue }
            if ready == 0 {
                // Nothing to read: has the child gone (and the terminal with it)?
                var status: Int32 = 0
                if waitpid(pid, &status, WNOHANG) == pid {
                    drain(master, into: &output)
                    return Result(status: exitStatus(status), output: String(decoding: output, as: UTF8.self))
                }
                continue
            }
            let count = read(master, &buffer, buffer.count)
            if count <= 0 { break }  // EIO: the child closed its side
            output.append(contentsOf: buffer[0..<count])
            while let next = pending.first, String(decoding: output, as: UTF8.self).contains(next.marker) {
                pending.removeFirst()
                switch next.action {
                case .resize(let columns): imagegen_pty_resize(master, UInt16(rows), UInt16(columns))
                case .type(let text): _ = text.utf8CString.withUnsafeBufferPointer { write(master, $0.baseAddress, $0.count - 1) }
                }
            }
        }
        var status: Int32 = 0
        if Date() >= deadline {
            kill(pid, SIGKILL)
            waitpid(pid, &status, 0)
            throw POSIXError(.ETIMEDOUT)
        }
        waitpid(pid, &status, 0)
        return Result(status: exitStatus(status), output: String(decoding: output, as: UTF8.self))
    }

    private static func drain(_ fd: Int32, into output: inout [UInt8]) {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            var poller = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            guard poll(&poller, 1, 0) > 0 else { return }
            let count = read(fd, &buffer, buffer.count)
            if count <= 0 { return }
            output.append(contentsOf: buffer[0..<count])
        }
    }

    private static func exitStatus(_ status: Int32) -> Int32 {
        // WIFEXITED / WEXITSTATUS, WTERMSIG as 128 + signal, as a shell reports it.
        (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
    }

    private static func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
        var pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
        pointers.append(nil)
        defer { for pointer in pointers { free(pointer) } }
        return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
    }
}

/// Reading what a terminal was sent: its rows, without escapes.
public enum TerminalScreen {
    /// The text with CSI escape sequences (colours, cursor moves, erasures) removed.
    public static func plain(_ text: String) -> String {
        var output = String.UnicodeScalarView()
        var iterator = text.unicodeScalars.makeIterator()
        while let scalar = iterator.next() {
            if scalar == "\u{1B}" {
                if iterator.next() == "[" {
                    while let next = iterator.next(), !(0x40...0x7E).contains(next.value) {}
                }
                continue
            }
            output.append(scalar)
        }
        return String(output)
    }

    /// The rows a live view drew: each piece that follows an erase-line escape (`ESC [2K`), up to
    /// its newline, without escapes.
    public static func liveRows(_ text: String) -> [String] {
        // A terminal's "\r\n" is one Character in Swift: split on scalars.
        text.components(separatedBy: "\u{1B}[2K").dropFirst().map { piece in
            let line = piece.unicodeScalars.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map { String(String.UnicodeScalarView($0)) } ?? ""
            return plain(line).replacingOccurrences(of: "\r", with: "")
        }
    }

    /// Every cursor-up move (`ESC [ N A`), in order.
    public static func upMoves(_ text: String) -> [Int] {
        var moves: [Int] = []
        var rest = Substring(text)
        while let start = rest.range(of: "\u{1B}[") {
            rest = rest[start.upperBound...]
            let digits = rest.prefix { $0.isNumber }
            if !digits.isEmpty, rest.dropFirst(digits.count).first == "A", let count = Int(digits) { moves.append(count) }
        }
        return moves
    }
}
