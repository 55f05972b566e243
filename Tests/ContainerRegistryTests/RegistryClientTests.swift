import ContainerRegistry
import DockerEngine
import Foundation
import Testing

/// The registry client's protocol logic, over a scripted transport: challenges, tokens, image
/// indexes and redirects. (Against a real registry it runs in the release integration tests.)
@Suite("Registry client")
struct RegistryClientTests {
    /// Answers GETs from a table keyed by URL (and by whether the request carried the right
    /// `Authorization`), and records every request.
    final class ScriptedRegistry: RegistryTransport, @unchecked Sendable {
        struct Route {
            var status: Int
            var headers: [(String, String)] = []
            var body: String = ""
            /// The `Authorization` this route needs; without it the answer is `challenge`.
            var requires: String?
            var challenge: String?
        }

        private let lock = NSLock()
        private var routes: [String: Route]
        private(set) var requests: [(url: String, headers: [(String, String)])] = []

        init(_ routes: [String: Route]) { self.routes = routes }

        func send(_ request: RegistryRequest, limit: Int) async throws -> RegistryResponse {
            let url = request.url, headers = request.headers
            let route = lock.withLock {
                requests.append((url, headers))
                return routes[url]
            }
            guard let route else { return RegistryResponse(status: 404, headers: [], body: Array(#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown"}]}"#.utf8)) }
            let authorization = headers.first { $0.0 == "Authorization" }?.1
            if let needed = route.requires, authorization != needed {
                return RegistryResponse(status: 401, headers: [("WWW-Authenticate", route.challenge ?? "")], body: Array(#"{"errors":[{"code":"UNAUTHORIZED"}]}"#.utf8))
            }
            return RegistryResponse(status: route.status, headers: route.headers, body: Array(route.body.utf8))
        }

        func authorizations(for url: String) -> [String?] {
            lock.withLock { requests }.filter { $0.url == url }.map { request in request.headers.first { $0.0 == "Authorization" }?.1 }
        }
    }

    static let config = #"{"architecture":"amd64","config":{"Labels":{"org.opencontainers.image.version":"1.4.2","dev.imagegen.content-hash":"abc"}}}"#
    static let configDigest = "sha256:" + String(repeating: "c", count: 64)
    static let manifestDigest = "sha256:" + String(repeating: "1", count: 64)
    static let indexDigest = "sha256:" + String(repeating: "2", count: 64)
    static let manifest = #"{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"digest":"\#(configDigest)"},"layers":[]}"#

    @Test("a bearer challenge: a pull token from the realm (with basic credentials), then manifest and config with it")
    func bearer() async throws {
        let token = "Bearer t0ken"
        let basic = "Basic " + Data("ci:s3cret-pass".utf8).base64EncodedString()
        let challenge = #"Bearer realm="https://auth.example.test/token",service="registry.example.test",scope="repository:team/app:pull""#
        let transport = ScriptedRegistry([
            "https://auth.example.test/token?service=registry.example.test&scope=repository%3Ateam%2Fapp%3Apull":
                .init(status: 200, body: #"{"token":"t0ken"}"#, requires: basic, challenge: #"Basic realm="auth""#),
            "https://registry.example.test/v2/team/app/manifests/1.4":
                .init(status: 200, headers: [("Docker-Content-Digest", Self.manifestDigest)], body: Self.manifest, requires: token, challenge: challenge),
            "https://registry.example.test/v2/team/app/blobs/\(Self.configDigest)":
                .init(status: 200, body: Self.config, requires: token, challenge: challenge),
        ])
        let client = RegistryClient(host: "registry.example.test", credentials: .init(username: "ci", password: "s3cret" + "-pass"), transport: transport)
        let image = try #require(try await client.image(repository: "team/app", tag: "1.4"))
        #expect(image.configDigest.description == Self.configDigest)
        #expect(image.manifestDigest?.description == Self.manifestDigest)
        #expect(image.labels["org.opencontainers.image.version"] == "1.4.2")
        // One challenge, one token, reused for the blob.
        #expect(transport.authorizations(for: "https://registry.example.test/v2/team/app/manifests/1.4") == [nil, token])
        #expect(transport.authorizations(for: "https://registry.example.test/v2/team/app/blobs/\(Self.configDigest)") == [token])
    }

    @Test("a missing tag is nil; a refused token names what to do and never the password")
    func missingAndDenied() async throws {
        let transport = ScriptedRegistry([
            "https://r.example.test/v2/team/app/manifests/9.9": .init(
                status: 200, body: Self.manifest, requires: "Bearer x",
                challenge: #"Bearer realm="https://r.example.test/token""#),
            "https://r.example.test/token?scope=repository%3Ateam%2Fapp%3Apull": .init(status: 401, body: "{}"),
        ])
        let anonymous = RegistryClient(host: "r.example.test", credentials: nil, transport: transport)
        #expect(try await anonymous.image(repository: "team/app", tag: "1.0") == nil)
        let withPassword = RegistryClient(host: "r.example.test", credentials: .init(username: "ci", password: "hunter2" + "-secret"), transport: transport)
        do {
            _ = try await withPassword.image(repository: "team/app", tag: "9.9")
            Issue.record("expected a refusal")
        } catch let error as RegistryError {
            #expect(error.description.contains("the credentials were not accepted"))
            #expect(!error.description.contains("hunter2"))
        }
        do {
            _ = try await anonymous.image(repository: "team/app", tag: "9.9")
            Issue.record("expected a refusal")
        } catch let error as RegistryError {
            #expect(error.description.contains("it needs credentials (docker login)"))
        }
    }

    @Test("an image index: the linux entry for this machine's architecture is read")
    func index() async throws {
        #if arch(arm64)
        let other = "amd64", mine = "arm64"
        #else
        let other = "arm64", mine = "amd64"
        #endif
        let index =
            #"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"digest":"sha256:other","platform":{"os":"linux","architecture":"\#(other)"}},{"digest":"sha256:mine","platform":{"os":"linux","architecture":"\#(mine)"}}]}"#
        let transport = ScriptedRegistry([
            "http://127.0.0.1:5000/v2/app/manifests/latest": .init(status: 200, headers: [("Docker-Content-Digest", Self.indexDigest)], body: index),
            "http://127.0.0.1:5000/v2/app/manifests/sha256:mine": .init(status: 200, body: Self.manifest),
            "http://127.0.0.1:5000/v2/app/blobs/\(Self.configDigest)": .init(status: 200, body: Self.config),
        ])
        let image = try #require(try await RegistryClient(host: "127.0.0.1:5000", credentials: nil, transport: transport).image(repository: "app", tag: "latest"))
        #expect(image.configDigest.description == Self.configDigest)
        #expect(image.manifestDigest?.description == Self.indexDigest)
        #expect(!transport.requests.contains { $0.url.hasSuffix("sha256:other") })
    }

    @Test("a blob redirected to another host is fetched without the registry's credentials")
    func redirect() async throws {
        let basic = "Basic " + Data("ci:pw".utf8).base64EncodedString()
        let transport = ScriptedRegistry([
            "https://r.example.test/v2/app/manifests/1": .init(status: 200, body: Self.manifest, requires: basic, challenge: #"Basic realm="r""#),
            "https://r.example.test/v2/app/blobs/\(Self.configDigest)":
                .init(status: 307, headers: [("Location", "https://blobs.example.test/c?signature=x")], requires: basic, challenge: #"Basic realm="r""#),
            "https://blobs.example.test/c?signature=x": .init(status: 200, body: Self.config),
        ])
        let client = RegistryClient(host: "r.example.test", credentials: .init(username: "ci", password: "pw"), transport: transport)
        #expect(try await client.image(repository: "app", tag: "1")?.labels["dev.imagegen.content-hash"] == "abc")
        #expect(transport.authorizations(for: "https://blobs.example.test/c?signature=x") == [nil])
    }

    @Test("Docker Hub: the API host and library/ for official images")
    func dockerHub() async throws {
        let transport = ScriptedRegistry([:])
        _ = try await RegistryClient(host: "docker.io", credentials: nil, transport: transport).image(repository: "debian", tag: "12")
        #expect(transport.requests.first?.url == "https://registry-1.docker.io/v2/library/debian/manifests/12")
    }
}
