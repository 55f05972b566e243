import ContainerBasics
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOPosix

/// Reads what a tag names in a registry, over the Docker Registry HTTP API v2 (the OCI
/// distribution API): the manifest, then the image config with its labels. Release uses it so
/// that a fresh CI runner, whose engine has no tags, still sees the versions already pushed.
///
/// Authentication follows the registry's `WWW-Authenticate` challenge: `Basic` with the
/// credentials, or `Bearer` with a pull token from the realm it names (anonymous when there are no
/// credentials). Loopback registries are spoken to over plain HTTP, as the Docker engine does;
/// every other registry over HTTPS. Credentials and tokens never appear in an error.
public struct RegistryClient: Sendable {
    public struct Credentials: Sendable {
        public var username: String
        public var password: String

        public init(username: String, password: String) {
            self.username = username
            self.password = password
        }
    }

    /// What a tag names: the image's config digest (its image ID in the engine) and labels.
    public struct TaggedImage: Sendable, Equatable {
        public var manifestDigest: Digest?
        public var configDigest: Digest
        public var labels: [String: String]
    }

    /// `host[:port]` as in an image reference; `docker.io` means Docker Hub's registry.
    public let host: String
    let baseURL: String
    let credentials: Credentials?
    let credentialsHint: String
    let transport: any RegistryTransport
    private let tokens = TokenCache()

    /// `credentialsHint` says how a user gives credentials, in the error when the registry wants them.
    public init(host: String, credentials: Credentials?, transport: (any RegistryTransport)? = nil, credentialsHint: String = "docker login") {
        self.host = host
        self.credentialsHint = credentialsHint
        let apiHost = host == "docker.io" || host == "index.docker.io" ? "registry-1.docker.io" : host
        self.baseURL = (Self.isLoopback(apiHost) ? "http://" : "https://") + apiHost
        self.credentials = credentials
        self.transport = transport ?? HTTPRegistryTransport()
    }

    static func isLoopback(_ host: String) -> Bool {
        var name = Substring(host)
        if name.hasPrefix("[") { name = name.dropFirst().prefix { $0 != "]" } } else if let colon = name.lastIndex(of: ":") { name = name[..<colon] }
        return name == "localhost" || name.hasPrefix("127.") || name == "::1"
    }

    public static let manifestTypes = [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
        "application/vnd.oci.image.index.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json",
    ]

    /// The image `repository:tag` names, or nil when the repository or tag does not exist.
    /// `repository` is the path inside the registry (`team/app`; a bare `app` on Docker Hub is
    /// `library/app`).
    public func image(repository rawRepository: String, tag: Tag, architecture: String = RegistryClient.architecture) async throws -> TaggedImage? {
        guard let found = try await imageConfig(repository: rawRepository, reference: tag.value, architecture: architecture) else { return nil }
        return TaggedImage(manifestDigest: found.tagDigest, configDigest: found.configDigest, labels: found.labels)
    }

    /// An image in a registry as its manifest and config describe it, read without its layers.
    public struct RemoteImage: Sendable, Equatable {
        /// The digest the reference names (an index's, for a multi-platform tag).
        public var tagDigest: Digest?
        /// The platform's image manifest.
        public var manifestDigest: Digest?
        public var manifestMediaType: String?
        public var configDigest: Digest
        public var labels: [String: String]
        /// The uncompressed layers' digests, bottom first (the engine's `RootFS.Layers`).
        public var diffIDs: [Digest]
        public var created: String?
        public var architecture: String?
    }

    /// What `repository:reference` (a tag or a digest) names, for `architecture` when it is an
    /// index; nil when the repository or reference does not exist.
    public func imageConfig(
        repository rawRepository: String, reference: String, architecture: String = RegistryClient.architecture
    ) async throws
        -> RemoteImage?
    {
        let repository = repositoryPath(rawRepository)
        let scope = "repository:\(repository):pull"
        var current = reference
        var manifest: Manifest
        var tagDigest: Digest?
        var manifestDigest: Digest?
        var mediaType: String?
        var indexHops = 0
        while true {
            guard let response = try await get("/v2/\(repository)/manifests/\(current)", accept: Self.manifestTypes, scope: scope, limit: 4 << 20)
            else { return nil }
            manifest = try decode(Manifest.self, response.body, what: "the manifest of \(repository):\(reference)")
            let digest = response.header("docker-content-digest").flatMap { try? Digest(parsing: $0) } ?? Digest.sha256(of: response.body)
            tagDigest = tagDigest ?? digest
            manifestDigest = digest
            mediaType = manifest.mediaType ?? response.header("content-type")
            if let entries = manifest.manifests {
                // An index (several platforms): the entry for this machine's platform.
                guard indexHops == 0, let chosen = Self.platformManifest(in: entries, architecture: architecture) else {
                    throw RegistryError.unexpected(
                        registry: host, what: "the manifest of \(repository):\(reference)", reason: "an image index with no linux/\(architecture) image")
                }
                current = chosen
                indexHops += 1
                continue
            }
            break
        }
        guard let configText = manifest.config?.digest, let configDigest = try? Digest(parsing: configText) else {
            throw RegistryError.unexpected(
                registry: host, what: "the manifest of \(repository):\(reference)", reason: "no config digest (schema 1 manifests are not supported)")
        }
        guard let response = try await get("/v2/\(repository)/blobs/\(configDigest)", accept: ["application/json", "*/*"], scope: scope, limit: 16 << 20)
        else {
            throw RegistryError.unexpected(
                registry: host, what: "the config of \(repository):\(reference)", reason: "the manifest names a config blob the registry does not have")
        }
        let config = try decode(ImageConfig.self, response.body, what: "the config of \(repository):\(reference)")
        return RemoteImage(
            tagDigest: tagDigest, manifestDigest: manifestDigest, manifestMediaType: mediaType, configDigest: configDigest, labels: config.config?.labels ?? [:],
            diffIDs: (config.rootfs?.diffIDs ?? []).compactMap { try? Digest(parsing: $0) }, created: config.created, architecture: config.architecture)
    }

    // The parts of the registry's documents that are read.
    struct Manifest: Decodable {
        struct Descriptor: Decodable { var digest: String }
        struct Entry: Decodable {
            struct Platform: Decodable { var os: String?; var architecture: String? }
            var digest: String
            var platform: Platform?
        }
        var mediaType: String?
        var config: Descriptor?
        var manifests: [Entry]?
    }

    struct ImageConfig: Decodable {
        struct Inner: Decodable {
            var labels: [String: String]?
            enum CodingKeys: String, CodingKey { case labels = "Labels" }
        }
        struct RootFS: Decodable {
            var diffIDs: [String]?
            enum CodingKeys: String, CodingKey { case diffIDs = "diff_ids" }
        }
        var config: Inner?
        var rootfs: RootFS?
        var created: String?
        var architecture: String?
    }

    struct TokenAnswer: Decodable {
        var token: String?
        var accessToken: String?
        enum CodingKeys: String, CodingKey { case token, accessToken = "access_token" }
    }

    struct ErrorAnswer: Decodable {
        struct Item: Decodable { var code: String?; var message: String? }
        var errors: [Item]
    }

    func decode<T: Decodable>(_ type: T.Type, _ body: [UInt8], what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: Data(body))
        } catch {
            throw RegistryError.unexpected(registry: host, what: what, reason: "not the expected JSON (\(error))")
        }
    }

    /// This machine's architecture, as an image index names it.
    public static var architecture: String {
        #if arch(arm64)
        "arm64"
        #else
        "amd64"
        #endif
    }

    /// The digest of the linux manifest for this machine's architecture in an image index.
    static func platformManifest(in entries: [Manifest.Entry], architecture: String = RegistryClient.architecture) -> String? {
        entries.first { $0.platform?.os == "linux" && $0.platform?.architecture == architecture }?.digest
    }

    // MARK: - Requests, challenges, redirects

    /// A GET answered 200 (nil for 404), authenticating as the registry asks and following
    /// redirects (blob stores redirect), without sending credentials to another host.
    func get(_ path: String, accept: [String], scope: String, limit: Int) async throws -> RegistryResponse? {
        let response = try await exchange("GET", baseURL + path, headers: [("Accept", accept.joined(separator: ", "))], scope: scope, limit: limit)
        switch response.status {
        case 200: return response
        case 404: return nil
        default: throw failure(response, what: path)
        }
    }

    /// One request, answered: a `WWW-Authenticate` challenge is met once (the answer kept for the
    /// scope), and a GET or HEAD follows redirects, dropping credentials at another host. Any
    /// other status is returned for the caller to judge.
    func exchange(_ method: String, _ startURL: String, headers: [(String, String)], body: [UInt8]? = nil, scope: String, limit: Int) async throws -> RegistryResponse {
        var url = startURL
        var authorization = await tokens.authorization(for: scope)
        var challenged = false
        for _ in 0..<6 {
            var sent = headers
            if let authorization { sent.append(("Authorization", authorization)) }
            let response = try await transport.send(RegistryRequest(method: method, url: url, headers: sent, body: body), limit: limit)
            switch response.status {
            case 401 where !challenged:
                challenged = true
                authorization = try await authenticate(challenge: response.header("www-authenticate") ?? "", scope: scope)
                await tokens.store(authorization, for: scope)
            case let status where [301, 302, 303, 307, 308].contains(status) && (method == "GET" || method == "HEAD"):
                guard let location = response.header("location") else {
                    throw RegistryError.unexpected(registry: host, what: Self.path(of: url), reason: "a redirect without a Location")
                }
                let next = Self.resolve(location, against: url)
                if Self.origin(of: next) != Self.origin(of: url) { authorization = nil }
                url = next
            default:
                return response
            }
        }
        throw RegistryError.unexpected(registry: host, what: Self.path(of: startURL), reason: "too many redirects")
    }

    /// The error for an answer that is not the one wanted.
    func failure(_ response: RegistryResponse, what: String) -> RegistryError {
        switch response.status {
        case 401, 403: .denied(registry: host, what: what, withCredentials: credentials != nil, hint: credentialsHint)
        default: .http(registry: host, what: what, status: response.status, message: Self.errorMessage(response.body))
        }
    }

    /// The path and query of a URL (what errors name; never credentials, which are not in URLs).
    static func path(of url: String) -> String {
        String(url.dropFirst(origin(of: url).count))
    }

    /// The `Authorization` value that answers a `WWW-Authenticate` challenge.
    func authenticate(challenge: String, scope: String) async throws -> String? {
        guard let parsed = Challenge(parsing: challenge) else {
            throw RegistryError.unexpected(registry: host, what: "authentication", reason: "an unknown challenge")
        }
        let basic = credentials.map { "Basic " + Data("\($0.username):\($0.password)".utf8).base64EncodedString() }
        switch parsed.scheme {
        case "basic":
            guard let basic else { throw RegistryError.denied(registry: host, what: "authentication", withCredentials: false, hint: credentialsHint) }
            return basic
        case "bearer":
            guard let realm = parsed.parameters["realm"], realm.hasPrefix("https://") || realm.hasPrefix("http://") else {
                throw RegistryError.unexpected(registry: host, what: "authentication", reason: "a bearer challenge without a realm")
            }
            var query: [(String, String)] = []
            if let service = parsed.parameters["service"] { query.append(("service", service)) }
            query.append(("scope", parsed.parameters["scope"] ?? scope))
            let url = realm + (realm.contains("?") ? "&" : "?") + URLEncoding.query(query)
            var headers = [("Accept", "application/json")]
            if let basic { headers.append(("Authorization", basic)) }
            let response = try await transport.get(url: url, headers: headers, limit: 1 << 20)
            guard response.status == 200 else {
                if response.status == 401 || response.status == 403 {
                    throw RegistryError.denied(registry: host, what: "a pull token", withCredentials: credentials != nil, hint: credentialsHint)
                }
                throw RegistryError.http(registry: host, what: "a pull token", status: response.status, message: Self.errorMessage(response.body))
            }
            let answer = try decode(TokenAnswer.self, response.body, what: "a pull token")
            guard let token = answer.token ?? answer.accessToken, !token.isEmpty else {
                throw RegistryError.unexpected(registry: host, what: "a pull token", reason: "the answer holds no token")
            }
            return "Bearer " + token
        default:
            throw RegistryError.unexpected(registry: host, what: "authentication", reason: "the '\(parsed.scheme)' scheme is not supported")
        }
    }

    static func resolve(_ location: String, against url: String) -> String {
        if location.hasPrefix("http://") || location.hasPrefix("https://") { return location }
        let origin = origin(of: url)
        return location.hasPrefix("/") ? origin + location : origin + "/" + location
    }

    /// `scheme://host[:port]` of a URL.
    static func origin(of url: String) -> String {
        guard let schemeEnd = url.range(of: "://") else { return url }
        let afterScheme = url[schemeEnd.upperBound...]
        let hostEnd = afterScheme.firstIndex(of: "/") ?? afterScheme.endIndex
        return String(url[..<hostEnd])
    }

    /// The first message of a registry error body (`{"errors":[{"code","message"}]}`).
    static func errorMessage(_ body: [UInt8]) -> String {
        guard let answer = try? JSONDecoder().decode(ErrorAnswer.self, from: Data(body)), let first = answer.errors.first else {
            return String(decoding: body.prefix(200), as: UTF8.self)
        }
        return [first.code, first.message].compactMap { $0 }.joined(separator: ": ")
    }

    /// Tokens per scope for the life of the client.
    private actor TokenCache {
        private var values: [String: String] = [:]
        func authorization(for scope: String) -> String? { values[scope] }
        func store(_ value: String?, for scope: String) { values[scope] = value }
    }
}
