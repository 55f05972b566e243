import Foundation
import Testing
import ContainerBasics
@testable import DockerEngine

/// The engine client's pure logic, over an in-memory transport (the real engine is exercised by
/// the integration tests).
@Suite("Docker engine client")
struct EngineClientTests {
    /// Answers requests from a table and records them.
    final class MemoryTransport: EngineTransport, @unchecked Sendable {
        var answers: [String: (Int, [(String, String)], [UInt8])] = [:]
        private(set) var requests: [String] = []
        let lock = NSLock()
        var endpointDescription: String { "memory://" }

        func send(_ request: EngineRequest, apiVersion: APIVersion?) async throws -> EngineResponse {
            let target = request.target(apiVersion: apiVersion)
            lock.withLock { requests.append("\(request.method) \(target)") }
            let key = "\(request.method) \(request.path)"
            guard let (status, headers, body) = answers[key] else {
                return EngineResponse(status: 404, headers: [], body: .of(Array("{\"message\":\"no such thing: \(request.path)\"}".utf8)))
            }
            return EngineResponse(status: status, headers: headers, body: .of(body))
        }

    }

    func transport(api: String?, builder: String? = nil) -> MemoryTransport {
        let transport = MemoryTransport()
        var headers: [(String, String)] = []
        if let api { headers.append(("Api-Version", api)) }
        if let builder { headers.append(("Builder-Version", builder)) }
        transport.answers["GET /_ping"] = (200, headers, Array("OK".utf8))
        return transport
    }

    @Test("negotiates the lower of the engine's and imagegen's newest API, and prefixes paths with it")
    func negotiation() async throws {
        let old = try await DockerEngine.connect(transport: transport(api: "1.41"))
        #expect(old.apiVersion == APIVersion(1, 41))
        let new = try await DockerEngine.connect(transport: transport(api: "1.50", builder: "2"))
        #expect(new.apiVersion == APIVersion.maximumSupported)
        #expect(new.ping.builderVersion == "2")
        let pinned = try await DockerEngine.connect(transport: transport(api: "1.41"), pinnedAPIVersion: APIVersion(1, 40))
        #expect(pinned.apiVersion == APIVersion(1, 40))
        let memory = transport(api: "1.41")
        let engine = try await DockerEngine.connect(transport: memory)
        _ = try await engine.inspectImage("imagegen-test/busybox:1")
        #expect(memory.requests.last == "GET /v1.41/images/imagegen-test/busybox:1/json")
    }

    @Test("refuses an engine older than the minimum")
    func tooOld() async {
        await #expect(throws: DockerEngineError.apiTooOld(server: APIVersion(1, 35), minimum: .minimumSupported)) {
            _ = try await DockerEngine.connect(transport: transport(api: "1.35"))
        }
    }

    @Test("falls back to /version when the ping has no Api-Version header")
    func versionFallback() async throws {
        let memory = transport(api: nil)
        memory.answers["GET /version"] = (200, [], Array(#"{"Version":"20.10.24","ApiVersion":"1.41","MinAPIVersion":"1.12"}"#.utf8))
        #expect(try await DockerEngine.connect(transport: memory).apiVersion == APIVersion(1, 41))
    }

    @Test("an error status carries the engine's message; 404 on inspect is nil")
    func httpErrors() async throws {
        let memory = transport(api: "1.41")
        memory.answers["POST /images/a/tag"] = (500, [], Array(#"{"message":"disk full"}"#.utf8))
        let engine = try await DockerEngine.connect(transport: memory)
        #expect(try await engine.inspectImage("missing:1") == nil)
        await #expect(throws: DockerEngineError.http(status: 500, request: "POST /images/a/tag", message: "disk full")) {
            try await engine.tag("a", repository: try Repository(parsing: "b"), tag: "c")
        }
    }

    @Test("query values are percent-encoded")
    func encoding() {
        let request = EngineRequest("GET", "/images/json", query: [("filters", #"{"label":["a=b c"]}"#)])
        #expect(
            request.target(apiVersion: APIVersion(1, 41))
                == "/v1.41/images/json?filters=%7B%22label%22%3A%5B%22a%3Db%20c%22%5D%7D")
    }

    @Test("DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH and DOCKER_API_VERSION as the docker CLI reads them")
    func endpoints() throws {
        #expect(try EngineEndpoint.fromEnvironment([:]).address == .unixSocket(path: "/var/run/docker.sock"))
        #expect(try EngineEndpoint.fromEnvironment(["DOCKER_HOST": "unix:///run/user/1000/docker.sock"]).address == .unixSocket(path: "/run/user/1000/docker.sock"))
        let tls = try EngineEndpoint.fromEnvironment(["DOCKER_HOST": "tcp://10.0.0.5:2376", "DOCKER_TLS_VERIFY": "1", "DOCKER_CERT_PATH": "/certs"])
        #expect(tls.address == .tcp(host: "10.0.0.5", port: 2376))
        #expect(tls.tls?.caPath == "/certs/ca.pem" && tls.tls?.certificatePath == "/certs/cert.pem" && tls.tls?.keyPath == "/certs/key.pem")
        #expect(try EngineEndpoint.fromEnvironment(["DOCKER_HOST": "tcp://[::1]:2375"]).address == .tcp(host: "::1", port: 2375))
        #expect(try EngineEndpoint.fromEnvironment(["DOCKER_API_VERSION": "1.40"]).pinnedAPIVersion == APIVersion(1, 40))
        #expect(try EngineEndpoint.fromEnvironment(["DOCKER_HOST": "ssh://me@host"]).address == .ssh(user: "me", host: "host", port: nil, socketPath: nil))
        let ssh = try EngineEndpoint.fromEnvironment(["DOCKER_HOST": "ssh://ci@build-1.example:2222/run/user/1000/docker.sock"])
        #expect(ssh.address == .ssh(user: "ci", host: "build-1.example", port: 2222, socketPath: "/run/user/1000/docker.sock"))
        #expect(ssh.description == "ssh://ci@build-1.example:2222/run/user/1000/docker.sock")
        #expect(
            try SSHTunnel.command(for: ssh, ssh: ["ssh", "-F", "/cfg"]) == [
                "ssh", "-F", "/cfg", "-o", "ConnectTimeout=30", "-T", "-l", "ci", "-p", "2222", "--", "build-1.example",
                "docker", "--host", "unix:///run/user/1000/docker.sock", "system", "dial-stdio",
            ])
        #expect(try EngineEndpoint.fromEnvironment(["DOCKER_HOST": "ssh://[::1]:22"]).address == .ssh(user: nil, host: "::1", port: 22, socketPath: nil))
        #expect(throws: DockerEngineError.self) { try EngineEndpoint.fromEnvironment(["DOCKER_HOST": "ssh://-oProxyCommand=x"]) }
        #expect(throws: DockerEngineError.self) { try EngineEndpoint.fromEnvironment(["DOCKER_HOST": "ssh://host:99999"]) }
        #expect(throws: DockerEngineError.self) { try EngineEndpoint.fromEnvironment(["DOCKER_HOST": "ssh://host", "DOCKER_TLS_VERIFY": "1"]) }
        #expect(throws: DockerEngineError.self) { try EngineEndpoint.fromEnvironment(["DOCKER_HOST": "npipe:////./pipe/docker_engine"]) }
        #expect(throws: DockerEngineError.self) { try EngineEndpoint.fromEnvironment(["DOCKER_HOST": "unix:///s", "DOCKER_TLS_VERIFY": "1"]) }
        #expect(throws: DockerEngineError.self) { try EngineEndpoint.fromEnvironment(["DOCKER_API_VERSION": "one"]) }
    }

    @Test("classic builder messages: output split across chunks, image ID, streamed error")
    func classicStream() {
        var decoder = JSONLineDecoder()
        let stream = """
            {"stream":"Step 1/2 : FROM busybox\\n"}\r
            {"stream":" ---\\u003e abc\\n"}\r
            {"aux":{"ID":"sha256:1234"}}\r
            {"errorDetail":{"code":1,"message":"The command '/bin/sh -c false' returned a non-zero code: 1"},"error":"The command..."}\r

            """
        let bytes = Array(stream.utf8)
        var messages: [BuildMessage] = []
        for start in stride(from: 0, to: bytes.count, by: 7) {
            messages += decoder.feed(Array(bytes[start..<min(start + 7, bytes.count)]))
        }
        messages += decoder.finish()
        #expect(
            messages == [
                .output("Step 1/2 : FROM busybox\n"), .output(" ---> abc\n"), .imageID("sha256:1234"),
                .error("The command '/bin/sh -c false' returned a non-zero code: 1", code: 1),
            ])
    }

    /// Protobuf encoding for the test: a tag and a length-delimited or varint field.
    static func field(_ number: Int, _ bytes: [UInt8]) -> [UInt8] { varint(UInt64(number << 3 | 2)) + varint(UInt64(bytes.count)) + bytes }
    static func field(_ number: Int, varint value: UInt64) -> [UInt8] { varint(UInt64(number << 3)) + varint(value) }
    static func varint(_ value: UInt64) -> [UInt8] {
        var value = value, bytes: [UInt8] = []
        repeat {
            var byte = UInt8(value & 0x7F)
            value >>= 7
            if value != 0 { byte |= 0x80 }
            bytes.append(byte)
        } while value != 0
        return bytes
    }

    @Test("BuildKit trace: vertexes and logs decoded from base64 protobuf, unknown fields skipped")
    func buildKitTrace() throws {
        let timestamp = Self.field(1, varint: 1_700_000_000)
        let vertex =
            Self.field(1, Array("sha256:v1".utf8)) + Self.field(3, Array("[2/3] RUN echo hi".utf8)) + Self.field(4, varint: 0)
            + Self.field(5, timestamp) + Self.field(99, Array("future field".utf8)) + [0x0D, 1, 2, 3, 4] /* fixed32 field 1 */
        let log = Self.field(1, Array("sha256:v1".utf8)) + Self.field(3, varint: 1) + Self.field(4, Array("hi\n".utf8))
        let status = Self.field(1, vertex) + Self.field(3, log) + Self.field(2, Array("status".utf8))
        let line = "{\"id\":\"moby.buildkit.trace\",\"aux\":\"\(Data(status).base64EncodedString())\"}\n"
        var decoder = JSONLineDecoder()
        let messages = decoder.feed(Array(line.utf8))
        guard case .trace(let trace) = messages.first else {
            Issue.record("no trace in \(messages)")
            return
        }
        #expect(trace.vertexes == [BuildKitStatus.Vertex(digest: "sha256:v1", name: "[2/3] RUN echo hi", cached: false, started: true, completed: false, error: "")])
        #expect(trace.logs == [BuildKitStatus.Log(vertex: "sha256:v1", stream: 1, message: Array("hi\n".utf8))])
        #expect(throws: BuildKitStatus.DecodeError.self) { try BuildKitStatus(protobuf: [0x0A, 0x7F]) }
        let image = decoder.feed(Array("{\"id\":\"moby.image.id\",\"aux\":{\"ID\":\"sha256:abc\"}}\n".utf8))
        #expect(image == [.imageID("sha256:abc")])
    }

    @Test("container logs are split into stdout and stderr")
    func logs() {
        var demultiplexer = LogDemultiplexer(limit: 1 << 20)
        let frames: [UInt8] = [1, 0, 0, 0, 0, 0, 0, 3] + Array("out".utf8) + [2, 0, 0, 0, 0, 0, 0, 4] + Array("err!".utf8) + [1, 0, 0, 0, 0, 0, 0, 1] + Array("\n".utf8)
        for byte in frames { demultiplexer.feed([byte]) }
        #expect(String(decoding: demultiplexer.stdout, as: UTF8.self) == "out\n")
        #expect(String(decoding: demultiplexer.stderr, as: UTF8.self) == "err!")
    }
}
