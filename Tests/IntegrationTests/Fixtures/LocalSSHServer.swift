import DockerEngine
import Foundation
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache
import Testing

/// An OpenSSH server started by the test on 127.0.0.1 only, with its own host key and a client
/// key it accepts for root; `clientConfig` is an ssh_config that uses them.
final class LocalSSHServer: @unchecked Sendable {
    let directory = Scratch("imagegen-sshd")
    let port: Int
    var clientConfig: String { directory.url("ssh_config") }

    init() throws {
        let sshd = try #require(
            ["/usr/sbin/sshd"].first { FileManager.default.isExecutableFile(atPath: $0) },
            "sshd is needed (make test installs Debian's openssh-server)")
        let keygen = try #require(which("ssh-keygen"), "ssh-keygen is needed (openssh-client)")
        for key in ["host_key", "client_key"] {
            #expect(try run(keygen, ["-q", "-t", "ed25519", "-N", "", "-f", directory.url(key)]).status == 0)
        }
        try FileManager.default.copyItem(atPath: directory.url("client_key.pub"), toPath: directory.url("authorized_keys"))
        // sshd's privilege separation directory (the package's init script would make it).
        try FileManager.default.createDirectory(atPath: "/run/sshd", withIntermediateDirectories: true)
        port = freeLoopbackPort()
        directory.write(
            "sshd_config",
            """
            Port \(port)
            ListenAddress 127.0.0.1
            HostKey \(directory.url("host_key"))
            PidFile \(directory.url("sshd.pid"))
            AuthorizedKeysFile \(directory.url("authorized_keys"))
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no

            """)
        directory.write(
            "ssh_config",
            """
            Host *
              IdentityFile \(directory.url("client_key"))
              IdentitiesOnly yes
              StrictHostKeyChecking no
              UserKnownHostsFile /dev/null
              LogLevel ERROR
              BatchMode yes

            """)
        // As a daemon: sshd forks into the background and its first process exits, so no Process
        // of ours stays tied to it (Foundation's waitUntilExit on other children stalled while
        // one ran in the foreground); it is stopped through its pid file.
        let started = try run(sshd, ["-f", directory.url("sshd_config"), "-E", directory.url("sshd.log")])
        guard started.status == 0 else { throw TestFailure("sshd did not start: \(started.stderr)\(directory.read("sshd.log") ?? "")") }
        let ssh = try #require(which("ssh"))
        for _ in 0..<50 {
            if try run(ssh, ["-F", clientConfig, "-p", String(port), "root@127.0.0.1", "true"]).status == 0 { return }
            usleep(100_000)
        }
        throw TestFailure("sshd did not accept the test key on 127.0.0.1:\(port): \(directory.read("sshd.log") ?? "")")
    }

    func stop() {
        if let text = directory.read("sshd.pid"), let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(pid, SIGTERM)
        }
    }

    deinit { stop() }
}
