import ContainerBasics
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// `DOCKER_HOST=ssh://[user@]host[:port]`, as the docker CLI does it: every connection to the
/// engine is an `ssh … -- host docker system dial-stdio`, which speaks to the remote engine's
/// socket over the ssh session's standard input and output.
///
/// The HTTP client talks to a Unix socket in a private directory (mode 0700) that this tunnel
/// listens on; each connection accepted there gets its own ssh process, with bytes pumped both
/// ways. ssh runs with the user's own configuration (keys, known hosts, agent); the pool's
/// ``EngineConnections/sshCommand`` replaces the `ssh` command (`ssh -F path/config`), as
/// `GIT_SSH_COMMAND` does for git. What ssh says on failure is kept for the error a user sees.
final class SSHTunnel: Sendable {
    let socketPath: String
    let command: [String]
    private let directory: String
    private let listener: Int32
    /// The last ssh failure, and when (a `DispatchTime` in nanoseconds).
    private let lastError = Locked<(message: String, at: UInt64)?>(nil)

    /// The ssh command line for an endpoint (without the `ssh` program's own options).
    static func command(for endpoint: EngineEndpoint, ssh base: [String] = ["ssh"]) throws(DockerEngineError) -> [String] {
        guard case .ssh(let user, let host, let port, let socketPath) = endpoint.address else {
            throw .configuration("\(endpoint) is not an ssh:// address")
        }
        var arguments = (base.isEmpty ? ["ssh"] : base) + ["-o", "ConnectTimeout=30", "-T"]
        if let user { arguments += ["-l", user] }
        if let port { arguments += ["-p", String(port)] }
        arguments += ["--", host, "docker"]
        if let socketPath { arguments += ["--host", "unix://" + socketPath] }
        arguments += ["system", "dial-stdio"]
        return arguments
    }

    /// One tunnel per ssh endpoint, kept by an ``EngineConnections`` pool.
    init(endpoint: EngineEndpoint, ssh: [String], environment: [String: String]) throws(DockerEngineError) {
        command = try Self.command(for: endpoint, ssh: ssh)
        guard let program = ExecutableSearch.find(command[0], path: environment["PATH"]) else {
            throw .configuration("DOCKER_HOST \(endpoint) needs '\(command[0])' (an OpenSSH client), which is not on PATH")
        }
        var template = Array((NSTemporaryDirectory() + "/imagegen-ssh.XXXXXX").utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw .configuration("cannot make a private directory for the ssh tunnel: \(String(cString: strerror(errno)))")
        }
        directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        socketPath = directory + "/engine.sock"
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(socketPath.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            rmdir(directory)
            throw .configuration("the ssh tunnel's socket path \(socketPath) is too long (set TMPDIR to a shorter directory)")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in bytes.enumerated() { raw[index] = byte }
        }
        listener = SystemCalls.streamSocketClosedOnExec(domain: AF_UNIX)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard listener >= 0, bound == 0, listen(listener, 16) == 0 else {
            let reason = String(cString: strerror(errno))
            if listener >= 0 { close(listener) }
            rmdir(directory)
            throw .configuration("cannot listen for the ssh tunnel: \(reason)")
        }
        Self.registerCleanup(directory: directory, socket: socketPath)
        let resolved = [program] + command.dropFirst()
        let thread = Thread { [self] in acceptLoop(command: resolved) }
        thread.name = "imagegen-ssh-accept"
        thread.start()
    }

    /// What an ssh that ended after `start` (a `DispatchTime` in nanoseconds) said on stderr (its
    /// last line). ssh's exit is noticed a moment after the connection closes, so this waits up
    /// to `wait` seconds for it.
    func failure(since start: UInt64, wait: Double = 1.0) async -> String? {
        let deadline = DispatchTime.now().uptimeNanoseconds + UInt64(wait * 1e9)
        while true {
            if let last = lastFailure(), last.at >= start { return last.message }
            if DispatchTime.now().uptimeNanoseconds >= deadline { return nil }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
    }

    private func lastFailure() -> (message: String, at: UInt64)? { lastError.value }

    /// Stops accepting connections and removes the socket (connections under way finish).
    func stop() {
        shutdown(listener, Int32(SHUT_RDWR))
        close(listener)
        unlink(socketPath)
        rmdir(directory)
        Self.cleanup.withLock { $0.removeAll { $0.socket == socketPath } }
    }

    private func acceptLoop(command: [String]) {
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0 {
                if errno == EINTR { continue }
                return
            }
            _ = fcntl(connection, F_SETFD, FD_CLOEXEC)
            let thread = Thread { [self] in serve(connection, command: command) }
            thread.name = "imagegen-ssh"
            thread.start()
        }
    }

    /// One engine connection: an ssh process, and bytes pumped between it and the socket. ssh's
    /// input and output are socket pairs rather than pipes, so that every write here is a
    /// `send` with `MSG_NOSIGNAL`: an ssh that died cannot kill imagegen with SIGPIPE.
    private func serve(_ connection: Int32, command: [String]) {
        var toChild: [Int32] = [-1, -1], fromChild: [Int32] = [-1, -1]
        guard SystemCalls.streamSocketPairClosedOnExec(&toChild) == 0, SystemCalls.streamSocketPairClosedOnExec(&fromChild) == 0 else {
            record("cannot make the ssh tunnel's socket pairs: \(String(cString: strerror(errno)))")
            for fd in toChild + fromChild where fd >= 0 { close(fd) }
            close(connection)
            return
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let errors = Pipe()
        process.standardInput = FileHandle(fileDescriptor: toChild[1], closeOnDealloc: false)
        process.standardOutput = FileHandle(fileDescriptor: fromChild[1], closeOnDealloc: false)
        process.standardError = errors
        do {
            try process.run()
        } catch {
            record("cannot run \(command[0]): \(error)")
            for fd in toChild + fromChild { close(fd) }
            close(connection)
            return
        }
        close(toChild[1])
        close(fromChild[1])
        let ours = (input: toChild[0], output: fromChild[0])
        // Socket → ssh on its own thread: when the client is done, ssh's input ends and so does ssh.
        let upstreamDone = DispatchSemaphore(value: 0)
        let upstream = Thread {
            Self.pump(from: connection, to: ours.input)
            shutdown(ours.input, Int32(SHUT_WR))
            upstreamDone.signal()
        }
        upstream.start()
        Self.pump(from: ours.output, to: connection)
        shutdown(connection, Int32(SHUT_RDWR))
        upstreamDone.wait()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            let lines = String(decoding: message, as: UTF8.self).split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
            record(lines.last ?? "ssh exited with status \(process.terminationStatus)")
        }
        close(ours.input)
        close(ours.output)
        close(connection)
    }

    private func record(_ message: String) {
        lastError.set((message, DispatchTime.now().uptimeNanoseconds))
    }

    /// Copies from one socket to another until end of input or an error on either side.
    private static func pump(from source: Int32, to destination: Int32) {
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(source, $0.baseAddress, $0.count, 0) }
            if count < 0, errno == EINTR { continue }
            if count <= 0 { return }
            var offset = 0
            while offset < count {
                let written = buffer.withUnsafeBytes { SystemCalls.sendWithoutSignal(destination, $0.baseAddress! + offset, count - offset) }
                if written < 0, errno == EINTR { continue }
                if written <= 0 { return }
                offset += written
            }
        }
    }

    // MARK: - Cleanup at exit

    /// Tunnels' directories, removed at exit if no shutdown did (a process ended by an error).
    private static let cleanup = Locked<[(directory: String, socket: String)]>([])

    private static func registerCleanup(directory: String, socket: String) {
        let first = cleanup.withLock { entries in
            defer { entries.append((directory, socket)) }
            return entries.isEmpty
        }
        if first {
            atexit {
                for entry in SSHTunnel.cleanup.value {
                    unlink(entry.socket)
                    rmdir(entry.directory)
                }
            }
        }
    }
}
