import Foundation

/// Runs a program to completion and collects what it printed: git for context repositories and
/// release facts, docker credential helpers. Both pipes are read while it runs (so neither fills
/// up), a deadline ends it, and the async form runs it on a thread of its own so that no
/// cooperative thread waits on it.
public enum Subprocess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: [UInt8]
        public var stderr: [UInt8]
        public var timedOut: Bool

        public var output: String { String(decoding: stdout, as: UTF8.self) }
        /// What went wrong, as the program put it: its first `fatal:` or `error:` line (git's
        /// way), else its last line.
        public var lastErrorLine: String {
            let lines = String(decoding: stderr, as: UTF8.self).split(separator: "\n").map { $0.trimmingCharacters(in: .whitespaces) }
            return lines.first { $0.hasPrefix("fatal:") || $0.hasPrefix("error:") } ?? lines.last ?? ""
        }
    }

    public struct LaunchError: Error, Sendable, Equatable, CustomStringConvertible {
        public var program: String
        public var reason: String
        public var description: String { "cannot run \(program): \(reason)" }
    }

    /// Runs `executable` (a path, or a name looked up in PATH).
    public static func run(
        _ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String]? = nil,
        input: [UInt8]? = nil, timeoutSeconds: Double? = nil
    ) throws(LaunchError) -> Result {
        let environment = environment ?? ProcessInfo.processInfo.environment
        guard let path = ExecutableSearch.find(executable, path: environment["PATH"]) else {
            throw LaunchError(program: executable, reason: "not found in PATH")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.environment = environment
        if let directory { process.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let output = Pipe(), errors = Pipe(), stdin = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        do {
            try process.run()
        } catch {
            throw LaunchError(program: executable, reason: "\(error)")
        }
        if let input {
            stdin.fileHandleForWriting.write(Data(input))
            try? stdin.fileHandleForWriting.close()
        }
        // Both pipes read at once, each by a worker of its own, so that neither fills up.
        let collected = Locked<(stdout: [UInt8], stderr: [UInt8])>(([], []))
        let group = DispatchGroup()
        for (pipe, isError) in [(output, false), (errors, true)] {
            group.enter()
            DispatchQueue.global().async {
                let data = Array(pipe.fileHandleForReading.readDataToEndOfFile())
                collected.withLock { if isError { $0.stderr = data } else { $0.stdout = data } }
                group.leave()
            }
        }
        var timedOut = false
        if let timeoutSeconds, group.wait(timeout: .now() + timeoutSeconds) == .timedOut {
            timedOut = true
            process.terminate()
            if group.wait(timeout: .now() + 5) == .timedOut { kill(process.processIdentifier, SIGKILL) }
        }
        group.wait()
        process.waitUntilExit()
        let (stdout, stderr) = collected.value
        return Result(status: process.terminationStatus, stdout: stdout, stderr: stderr, timedOut: timedOut)
    }

    /// The same, from async code: off the cooperative pool (``BlockingWork``).
    public static func run(
        _ executable: String, _ arguments: [String], directory: String? = nil, environment: [String: String]? = nil,
        input: [UInt8]? = nil, timeoutSeconds: Double? = nil
    ) async throws -> Result {
        try await BlockingWork.run {
            try run(executable, arguments, directory: directory, environment: environment, input: input, timeoutSeconds: timeoutSeconds)
        }
    }
}

extension Subprocess.LaunchError: ClassifiedError {
    public var exitStatus: ExitStatus { .failed }
}
