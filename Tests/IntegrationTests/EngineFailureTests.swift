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

/// Every engine failure ends with one clear line and exit code 3.
@Suite("engine failures")
struct EngineFailureTests {
    static let recipe = EngineFixture.recipe("it-failures")

    func build(_ environment: [String: String]) throws -> (status: Int32, stdout: String, stderr: String) {
        let scratch = Scratch()
        scratch.write("recipe.yaml", Self.recipe)
        return try imagegen(["build", "recipe.yaml"], in: scratch, environment: environment)
    }

    @Test("no engine at the socket")
    func notRunning() throws {
        let result = try build(["DOCKER_HOST": "unix:///tmp/imagegen-no-such-engine.sock"])
        #expect(result.status == 3)
        #expect(
            result.stderr.trimmingCharacters(in: .whitespacesAndNewlines)
                == "error: cannot reach the Docker engine at unix:///tmp/imagegen-no-such-engine.sock (no such socket): is dockerd running? Start it, or set DOCKER_HOST to where it listens"
        )
    }

    @Test("a socket nobody listens on, and a closed TCP port")
    func refused() throws {
        let scratch = Scratch()
        let path = scratch.url("dead.sock")
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            for (index, byte) in path.utf8.enumerated() where index < raw.count - 1 { raw[index] = byte }
        }
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) } }
        close(fd)
        let socketResult = try build(["DOCKER_HOST": "unix://" + path])
        #expect(socketResult.status == 3)
        #expect(socketResult.stderr.contains("(connection refused): is dockerd running?"))
        let tcpResult = try build(["DOCKER_HOST": "tcp://127.0.0.1:1"])
        #expect(tcpResult.status == 3)
        #expect(tcpResult.stderr.contains("cannot reach the Docker engine at tcp://127.0.0.1:1"))
    }

    @Test("permission denied on the socket says how to fix it", .enabled(if: getuid() == 0, "needs root to run imagegen as another user"))
    func permissionDenied() throws {
        let engine = ProcessInfo.processInfo.environment["DOCKER_HOST"].map { String($0.dropFirst("unix://".count)) } ?? EngineEndpoint.defaultSocket
        let directory = "/tmp/imagegen-permission-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        try Self.recipe.write(toFile: directory + "/recipe.yaml", atomically: true, encoding: .utf8)
        chmod(directory, 0o777)
        chmod(directory + "/recipe.yaml", 0o644)
        let runuser = try #require(which("runuser") ?? (FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser") ? "/usr/sbin/runuser" : nil))
        let result = try run(
            runuser, ["-u", "nobody", "--", imagegenExecutable, "build", "recipe.yaml"], directory: directory,
            environment: ["IMAGEGEN_CACHE_DIR": directory + "/.cache", "HOME": directory, "DOCKER_HOST": "unix://" + engine])
        #expect(result.status == 3)
        #expect(result.stderr.contains("permission denied on the Docker engine socket unix://\(engine): add your user to the 'docker' group"))
    }

    @Test("an API version the engine does not speak, and one imagegen does not support")
    func apiVersions() throws {
        let tooNew = try build(["DOCKER_API_VERSION": "1.99"])
        #expect(tooNew.status == 3)
        #expect(tooNew.stderr.contains("client version 1.99 is too new"))
        let tooOld = try build(["DOCKER_API_VERSION": "1.30"])
        #expect(tooOld.status == 3)
        #expect(tooOld.stderr.contains("the Docker engine speaks API 1.30, older than 1.40"))
        let garbage = try build(["DOCKER_HOST": "fd://"])
        #expect(garbage.status == 2)
        #expect(garbage.stderr.contains("must start with unix://, tcp:// or ssh://"))
    }
}

/// A dockerd the tests start themselves: reached over TCP with TLS, and killed mid-build.
@Suite("private engine", .serialized)
final class PrivateEngineTests {
    let dockerd: PrivateDockerd

    init() async throws {
        dockerd = try PrivateDockerd()
        try await dockerd.start()
    }

    deinit { dockerd.stop() }

    @Test("a remote engine over TCP with TLS client certificates, through DOCKER_HOST")
    func remoteTLS() async throws {
        let name = EngineFixture.uniqueName("tls")
        let scratch = Scratch()
        scratch.write("recipe.yaml", EngineFixture.recipe(name, base: "    run: [\"echo over tls\"]\n"))
        let result = try imagegen(["build", "recipe.yaml"], in: scratch, environment: dockerd.tlsEnvironment)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stderr.contains("[base]   over tls"))
        let cached = try imagegen(["build", "recipe.yaml"], in: scratch, environment: dockerd.tlsEnvironment)
        #expect(cached.stdout.contains("0 built, 1 cached"))

        // The image is in the private engine, not the main one.
        let privateEngine = try await DockerEngine.connect(environment: dockerd.tlsEnvironment)
        #expect(try await privateEngine.listImages(labels: ["\(ImageLabels.recipe)=\(name)"]).count == 1)

        // Without the client certificate the engine refuses; with a stranger's CA we refuse it.
        let noTLS = try imagegen(["build", "recipe.yaml"], in: scratch, environment: ["DOCKER_HOST": "tcp://127.0.0.1:\(dockerd.port)"])
        #expect(noTLS.status == 3)
        let stranger = Scratch()
        try FileManager.default.copyItem(atPath: dockerd.certificates + "/cert.pem", toPath: stranger.url("cert.pem"))
        try FileManager.default.copyItem(atPath: dockerd.certificates + "/key.pem", toPath: stranger.url("key.pem"))
        try FileManager.default.copyItem(atPath: dockerd.certificates + "/cert.pem", toPath: stranger.url("ca.pem"))
        var wrongCA = dockerd.tlsEnvironment
        wrongCA["DOCKER_CERT_PATH"] = stranger.path
        let refused = try imagegen(["build", "recipe.yaml"], in: scratch, environment: wrongCA)
        #expect(refused.status == 3)
        #expect(refused.stderr.contains("TLS with the Docker engine at tcp://127.0.0.1:\(dockerd.port) failed"))
        var missing = dockerd.tlsEnvironment
        missing["DOCKER_CERT_PATH"] = "/nonexistent"
        let noCerts = try imagegen(["build", "recipe.yaml"], in: scratch, environment: missing)
        #expect(noCerts.status == 3)
        #expect(noCerts.stderr.contains("cannot load the certificates"))
    }

    @Test("dockerd killed mid-build: exit 3 with the engine error; after a restart the rerun reuses finished layers")
    func killedMidBuild() async throws {
        let name = EngineFixture.uniqueName("kill")
        let scratch = Scratch()
        scratch.write(
            "recipe.yaml",
            EngineFixture.recipe(
                name,
                layers: """
                      slow:
                        from: base
                        run: ["echo slow-started && sleep 20 && echo slow-done"]
                      top:
                        from: slow
                        run: ["echo top"]
                    """))
        // Wait until the slow layer's RUN has started, then kill the engine.
        let running = try startBuild(in: scratch, until: "slow-started", environment: dockerd.unixEnvironment)
        let process = running.process, errors = running.errors, seen = running.seen
        #expect(seen.contains("\"event\":\"built\",\"imageID\""), "base should have finished first")
        #expect(seen.contains("slow-started"))
        dockerd.kill()
        process.waitUntilExit()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 3)
        #expect(
            stderr.contains("error: lost the connection to the Docker engine at unix://\(dockerd.socket) during POST /build")
                || stderr.contains("error: cannot reach the Docker engine"), "\(stderr)")

        try await dockerd.start()
        let rerun = try imagegen(["build", "recipe.yaml", "--format", "json"], in: scratch, environment: dockerd.unixEnvironment)
        #expect(rerun.status == 0, "\(rerun.stderr)")
        let events = try rerun.stdout.split(separator: "\n").map { try JSONValue(parsing: Data($0.utf8)) }
        let states = Dictionary(
            uniqueKeysWithValues: (events.last?["layers"]?.arrayValue ?? []).compactMap { layer -> (String, String)? in
                guard let name = layer["layer"]?.stringValue, let state = layer["state"]?.stringValue else { return nil }
                return (name, state)
            })
        #expect(states == ["base": "cached", "slow": "built", "top": "built"])
    }
}
