import DockerEngine
import Foundation
import Testing

/// A dockerd of the test's own: its own data and exec roots, a Unix socket, and a TCP listener
/// on 127.0.0.1 with TLS client certificates made by openssl here. Tests may kill it.
final class PrivateDockerd: @unchecked Sendable {
    let directory: String
    let port: Int
    var socket: String { directory + "/docker.sock" }
    var certificates: String { directory + "/client-certs" }
    private(set) var pid: Int32 = 0
    private var process: Process?

    init() throws {
        var template = Array("/tmp/igd-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else { throw POSIXError(.EIO) }
        directory = String(decoding: template.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        port = freeLoopbackPort()
        try makeCertificates()
    }

    /// Runs openssl as the docker documentation describes for protecting the daemon socket.
    private func makeCertificates() throws {
        let openssl = try #require(which("openssl"), "openssl is needed to make test certificates")
        let server = directory + "/server-certs"
        try FileManager.default.createDirectory(atPath: server, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: certificates, withIntermediateDirectories: true)
        try "subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n".write(toFile: server + "/ext.cnf", atomically: true, encoding: .utf8)
        try "extendedKeyUsage = clientAuth\n".write(toFile: certificates + "/ext.cnf", atomically: true, encoding: .utf8)
        let steps: [[String]] = [
            ["genrsa", "-out", server + "/ca-key.pem", "2048"],
            ["req", "-new", "-x509", "-days", "2", "-key", server + "/ca-key.pem", "-sha256", "-subj", "/CN=imagegen test CA", "-out", server + "/ca.pem"],
            ["genrsa", "-out", server + "/key.pem", "2048"],
            ["req", "-subj", "/CN=127.0.0.1", "-sha256", "-new", "-key", server + "/key.pem", "-out", server + "/server.csr"],
            [
                "x509", "-req", "-days", "2", "-sha256", "-in", server + "/server.csr", "-CA", server + "/ca.pem", "-CAkey", server + "/ca-key.pem",
                "-CAcreateserial", "-out", server + "/cert.pem", "-extfile", server + "/ext.cnf",
            ],
            ["genrsa", "-out", certificates + "/key.pem", "2048"],
            ["req", "-subj", "/CN=client", "-new", "-key", certificates + "/key.pem", "-out", certificates + "/client.csr"],
            [
                "x509", "-req", "-days", "2", "-sha256", "-in", certificates + "/client.csr", "-CA", server + "/ca.pem", "-CAkey", server + "/ca-key.pem",
                "-CAcreateserial", "-out", certificates + "/cert.pem", "-extfile", certificates + "/ext.cnf",
            ],
        ]
        for arguments in steps {
            let result = try run(openssl, arguments)
            guard result.status == 0 else { throw TestFailure("openssl \(arguments.first ?? ""): \(result.stderr)") }
        }
        try FileManager.default.copyItem(atPath: server + "/ca.pem", toPath: certificates + "/ca.pem")
    }

    /// The private engine's own bridge. `--bridge=none` would make dockerd delete the host's
    /// docker0 (the main engine's), so it gets a bridge of its own, made here and removed in stop().
    var bridge: String { "igd\(port % 10_000)" }

    private func makeBridge() throws {
        let ip = try #require(which("ip") ?? (FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") ? "/usr/sbin/ip" : nil), "iproute2 is needed (make test installs it)")
        if try run(ip, ["link", "show", bridge]).status == 0 { return }
        let subnet = "10.\(100 + port % 100).\(port / 100 % 250).1/24"
        for arguments in [["link", "add", "name", bridge, "type", "bridge"], ["addr", "add", subnet, "dev", bridge], ["link", "set", bridge, "up"]] {
            let result = try run(ip, arguments)
            guard result.status == 0 else { throw TestFailure("ip \(arguments.joined(separator: " ")): \(result.stderr)") }
        }
    }

    func start() async throws {
        try makeBridge()
        let dockerd = try #require(
            which("dockerd") ?? ["/usr/sbin/dockerd", "/usr/bin/dockerd"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "dockerd is not installed (make test installs docker.io)")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: dockerd)
        process.arguments = [
            "--data-root", directory + "/data", "--exec-root", directory + "/exec", "--pidfile", directory + "/dockerd.pid",
            "-H", "unix://" + socket, "-H", "tcp://127.0.0.1:\(port)",
            "--tlsverify", "--tlscacert", directory + "/server-certs/ca.pem", "--tlscert", directory + "/server-certs/cert.pem",
            "--tlskey", directory + "/server-certs/key.pem",
            "--bridge", bridge, "--iptables=false", "--ip-masq=false", "--log-level=warn",
        ]
        if !FileManager.default.fileExists(atPath: directory + "/dockerd.log") {
            _ = FileManager.default.createFile(atPath: directory + "/dockerd.log", contents: nil)
        }
        let log = try #require(FileHandle(forWritingAtPath: directory + "/dockerd.log"))
        log.seekToEndOfFile()
        process.standardOutput = log
        process.standardError = log
        try process.run()
        self.process = process
        pid = process.processIdentifier
        // Wait for the socket to answer.
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline {
            if process.isRunning == false { break }
            if let engine = try? await DockerEngine.connect(endpoint: EngineEndpoint(address: .unixSocket(path: socket))) {
                try await EngineFixture.ensureBusybox(on: engine)
                return
            }
            try await Task.sleep(nanoseconds: 200_000_000)
        }
        let tail = (try? String(contentsOfFile: directory + "/dockerd.log", encoding: .utf8))?.suffix(2000) ?? ""
        throw TestFailure("the private dockerd did not answer on \(socket):\n\(tail)")
    }

    /// SIGKILL, as a crash or an OOM kill would end it; then waits for it to be gone.
    func kill() {
        guard let process, process.isRunning else { return }
        Glibc.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        waitForContainerdToEnd()
    }

    /// dockerd's containerd dies with it (parent-death signal), but not at once; a restarted
    /// dockerd that still sees its pid would wait on its dead socket. Wait as a supervisor would,
    /// and drop the pid file of one left as a zombie (this sandbox's init does not reap them).
    private func waitForContainerdToEnd() {
        let pidFile = directory + "/exec/containerd/containerd.pid"
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
            let containerd = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else { return }
        let deadline = Date().addingTimeInterval(15)
        while Date() < deadline {
            guard let stat = try? String(contentsOfFile: "/proc/\(containerd)/stat", encoding: .utf8) else { break }
            if stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).hasPrefix("Z") == true { break }
            usleep(100_000)
        }
        try? FileManager.default.removeItem(atPath: pidFile)
    }

    /// Stops dockerd and whatever containerd it started, and removes its files.
    func stop() {
        if let process, process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        // dockerd's own containerd outlives a killed dockerd; end it too.
        if let pidText = try? String(contentsOfFile: directory + "/exec/containerd/containerd.pid", encoding: .utf8),
            let containerd = Int32(pidText.trimmingCharacters(in: .whitespacesAndNewlines))
        {
            Glibc.kill(containerd, SIGTERM)
        }
        _ = try? run("/bin/sh", ["-c", "grep -l '\(directory)' /proc/[0-9]*/cmdline 2>/dev/null | cut -d/ -f3 | xargs -r kill -9"])
        _ = try? run("/bin/sh", ["-c", "umount -R \(directory)/data 2>/dev/null; umount -R \(directory)/exec 2>/dev/null; rm -rf \(directory)"])
        _ = try? run("/bin/sh", ["-c", "ip link delete \(bridge) 2>/dev/null"])
    }

    var tlsEnvironment: [String: String] {
        ["DOCKER_HOST": "tcp://127.0.0.1:\(port)", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": certificates]
    }

    var unixEnvironment: [String: String] { ["DOCKER_HOST": "unix://" + socket] }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
