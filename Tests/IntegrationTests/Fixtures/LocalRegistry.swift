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

/// Debian's docker-registry, started by the test on 127.0.0.1 only.
final class LocalRegistry: @unchecked Sendable {
    let port: Int
    let directory: Scratch
    /// A user and password the registry demands (htpasswd, `Basic` challenges), or nil for none.
    let credentials: (user: String, password: String)?
    private var process: Process?
    var address: String { "127.0.0.1:\(port)" }

    init(credentials: (user: String, password: String)? = nil) throws {
        directory = Scratch("imagegen-registry")
        port = freeLoopbackPort()
        self.credentials = credentials
        if let credentials {
            let htpasswd = try #require(which("htpasswd"), "htpasswd is needed (make test installs Debian's apache2-utils)")
            let entry = try run(htpasswd, ["-Bbn", "-C", "5", credentials.user, credentials.password])
            #expect(entry.status == 0)
            directory.write("htpasswd", entry.stdout)
        }
        try start()
    }

    func start() throws {
        let binary = try #require(
            which("docker-registry") ?? (FileManager.default.isExecutableFile(atPath: "/usr/bin/docker-registry") ? "/usr/bin/docker-registry" : nil),
            "docker-registry is needed (make test installs Debian's package)")
        directory.write(
            "config.yml",
            """
            version: 0.1
            log: {level: warn, accesslog: {disabled: false}}
            storage: {filesystem: {rootdirectory: \(directory.url("data"))}, delete: {enabled: true}}
            http: {addr: "127.0.0.1:\(port)"}
            """ + (credentials == nil ? "" : "\nauth: {htpasswd: {realm: imagegen-test, path: \(directory.url("htpasswd"))}}\n"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", directory.url("config.yml")]
        // The access log (what was asked of it) goes to a file the tests read.
        FileManager.default.createFile(atPath: directory.url("access.log"), contents: nil)
        process.standardOutput = FileHandle(forWritingAtPath: directory.url("access.log"))
        process.standardError = FileHandle.nullDevice
        try process.run()
        self.process = process
        for _ in 0..<100 where get("/v2/").status != 200 { usleep(100_000) }
        guard get("/v2/").status == 200 else { throw TestFailure("docker-registry did not answer on \(address)") }
    }

    /// The digests of the blobs served so far (GET answered 200 or a redirect), in order.
    func blobsServed() -> [String] {
        let log = directory.read("access.log") ?? ""
        return log.split(separator: "\n").compactMap { line in
            guard let request = line.range(of: "\"GET /v2/"), let blobs = line[request.upperBound...].range(of: "/blobs/sha256:") else { return nil }
            let rest = line[blobs.upperBound...]
            let digest = "sha256:" + rest.prefix { $0.isHexDigit }
            let status = rest.split(separator: "\"", maxSplits: 2).dropFirst().first?.split(separator: " ").first ?? ""
            return ["200", "307"].contains(String(status)) ? digest : nil
        }
    }

    func stop() {
        process?.terminate()
        process?.waitUntilExit()
    }

    deinit { stop() }

    /// A GET on the registry's HTTP API: status, headers and body.
    func get(_ path: String, accept: String? = nil) -> (status: Int, headers: String, body: String) {
        var arguments = ["-s", "-D", "-", "--max-time", "5"]
        if let accept { arguments += ["-H", "Accept: \(accept)"] }
        if let credentials { arguments += ["-u", "\(credentials.user):\(credentials.password)"] }
        guard let result = try? run("/usr/bin/curl", arguments + ["http://\(address)\(path)"]) else { return (0, "", "") }
        let parts = result.stdout.components(separatedBy: "\r\n\r\n")
        let status = Int(parts.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        return (status, parts.first ?? "", parts.dropFirst().joined(separator: "\r\n\r\n"))
    }

    func tags(_ repository: String) throws -> Set<String> {
        let document = try JSONValue(parsing: Data(get("/v2/\(repository)/tags/list").body.utf8))
        return Set((document["tags"]?.arrayValue ?? []).compactMap(\.stringValue))
    }

    /// The digest of the manifest a tag names, as the registry reports it.
    func digest(_ repository: String, _ tag: String) -> String? {
        let headers = get("/v2/\(repository)/manifests/\(tag)", accept: "application/vnd.docker.distribution.manifest.v2+json").headers
        return headers.split(separator: "\r\n").first { $0.lowercased().hasPrefix("docker-content-digest:") }
            .map { String($0.split(separator: ":", maxSplits: 1)[1]).trimmingCharacters(in: .whitespaces) }
    }
}
