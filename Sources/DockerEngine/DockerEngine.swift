import Foundation

/// A Docker Engine API client: typed calls over an ``EngineTransport``, with the API version
/// negotiated once at ``connect(endpoint:)``. It knows nothing of recipes.
public struct DockerEngine: Sendable {
    public let transport: any EngineTransport
    public let apiVersion: APIVersion
    public let ping: EnginePing
    /// Counts of requests made, by call (`build`, `inspect`, …), for reports and tests.
    public let statistics: RequestStatistics

    public var endpointDescription: String { transport.endpointDescription }

    /// Connects to the engine the environment names (DOCKER_HOST, …).
    public static func connect(environment: [String: String] = ProcessInfo.processInfo.environment) async throws -> DockerEngine {
        try await connect(endpoint: try EngineEndpoint.fromEnvironment(environment))
    }

    public static func connect(endpoint: EngineEndpoint) async throws -> DockerEngine {
        try EndpointProbe.check(endpoint)
        let transport = try HTTPEngineTransport(endpoint: endpoint)
        do {
            return try await connect(transport: transport, pinnedAPIVersion: endpoint.pinnedAPIVersion)
        } catch {
            try? await transport.shutdown()
            throw error
        }
    }

    /// Pings the engine and settles the API version: the pinned one, or the lower of the engine's
    /// and imagegen's newest. Refuses an engine older than ``APIVersion/minimumSupported``.
    public static func connect(transport: any EngineTransport, pinnedAPIVersion: APIVersion? = nil) async throws -> DockerEngine {
        let statistics = RequestStatistics()
        let response = try await transport.send(EngineRequest("GET", "/_ping", versioned: false, timeoutSeconds: 15), apiVersion: nil)
        statistics.record("ping")
        _ = try await response.collect(limit: 4096, request: "GET /_ping")
        guard response.status == 200 else {
            throw DockerEngineError.unexpectedResponse(request: "GET /_ping", reason: "HTTP \(response.status)")
        }
        var ping = EnginePing(apiVersion: response.header("Api-Version").flatMap(APIVersion.init), builderVersion: response.header("Builder-Version"))
        if ping.apiVersion == nil {
            let version = try await transport.send(EngineRequest("GET", "/version", versioned: false), apiVersion: nil)
            let body = try await version.collect(request: "GET /version")
            ping.apiVersion = (try? JSONDecoder().decode(EngineVersion.self, from: Data(body))).flatMap { APIVersion($0.apiVersion) }
        }
        guard let serverVersion = ping.apiVersion else {
            throw DockerEngineError.unexpectedResponse(request: "GET /_ping", reason: "the engine reports no API version")
        }
        let negotiated = pinnedAPIVersion ?? min(serverVersion, .maximumSupported)
        if negotiated < .minimumSupported {
            throw DockerEngineError.apiTooOld(server: negotiated, minimum: .minimumSupported)
        }
        return DockerEngine(transport: transport, apiVersion: negotiated, ping: ping, statistics: statistics)
    }

    public func shutdown() async {
        try? await transport.shutdown()
    }

    // MARK: - Requests

    /// Sends a request; a status of 400 or more becomes ``DockerEngineError/http(status:request:message:)``
    /// with the engine's own message.
    func call(_ request: EngineRequest, as name: String) async throws -> EngineResponse {
        statistics.record(name)
        let response = try await transport.send(request, apiVersion: apiVersion)
        guard response.status < 400 else {
            let body = (try? await response.collect(limit: 1 << 20, request: request.summary)) ?? []
            struct Message: Decodable { var message: String }
            let message = (try? JSONDecoder().decode(Message.self, from: Data(body)))?.message
                ?? String(decoding: body, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            throw DockerEngineError.http(status: response.status, request: request.summary, message: message.isEmpty ? "no message" : message)
        }
        return response
    }

    func decode<T: Decodable>(_ type: T.Type, _ request: EngineRequest, as name: String) async throws -> T {
        let response = try await call(request, as: name)
        let body = try await response.collect(request: request.summary)
        do {
            return try JSONDecoder().decode(T.self, from: Data(body))
        } catch {
            throw DockerEngineError.unexpectedResponse(request: request.summary, reason: "\(error)")
        }
    }

    func discard(_ request: EngineRequest, as name: String) async throws {
        let response = try await call(request, as: name)
        _ = try await response.collect(limit: 16 << 20, request: request.summary)
    }

    static func json(_ object: some Encodable) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(object)) ?? Data("{}".utf8), as: UTF8.self)
    }

    // MARK: - System

    public func version() async throws -> EngineVersion {
        try await decode(EngineVersion.self, EngineRequest("GET", "/version"), as: "version")
    }

    // MARK: - Images

    /// The image's details, or nil when the engine has no such image.
    public func inspectImage(_ name: String) async throws -> ImageInspect? {
        do {
            return try await decode(ImageInspect.self, EngineRequest("GET", "/images/\(URLEncoding.pathSegment(name))/json"), as: "inspect")
        } catch let error as DockerEngineError where error.isNotFound {
            return nil
        }
    }

    public func history(_ name: String) async throws -> [ImageHistoryItem] {
        try await decode([ImageHistoryItem].self, EngineRequest("GET", "/images/\(URLEncoding.pathSegment(name))/history"), as: "history")
    }

    /// Images carrying every one of `labels` (`key=value` or `key`).
    public func listImages(labels: [String]) async throws -> [ImageSummary] {
        let filters = Self.json(["label": labels])
        return try await decode([ImageSummary].self, EngineRequest("GET", "/images/json", query: [("filters", filters)]), as: "list")
    }

    public func tag(_ source: String, repository: String, tag: String) async throws {
        try await discard(EngineRequest("POST", "/images/\(URLEncoding.pathSegment(source))/tag", query: [("repo", repository), ("tag", tag)]), as: "tag")
    }

    /// Removes an image or a tag of it (`noPrune` keeps untagged parents).
    public func removeImage(_ name: String, force: Bool = false, noPrune: Bool = false) async throws {
        try await discard(EngineRequest("DELETE", "/images/\(URLEncoding.pathSegment(name))",
                                        query: [("force", force ? "1" : "0"), ("noprune", noPrune ? "1" : "0")]), as: "remove")
    }

    /// The image as a `docker save` tar, streamed.
    public func exportImage(_ name: String) async throws -> ChunkSequence {
        try await call(EngineRequest("GET", "/images/\(URLEncoding.pathSegment(name))/get", timeoutSeconds: nil), as: "export").body
    }

    /// Several images in one `docker save` tar, streamed; layers they share appear once.
    public func exportImages(_ names: [String]) async throws -> ChunkSequence {
        try await call(EngineRequest("GET", "/images/get", query: names.map { ("names", $0) }, timeoutSeconds: nil), as: "export").body
    }

    /// Creates an image from a root file system tar (`docker import`).
    public func importImage(_ tar: ChunkSequence, repository: String, tag: String, changes: [String] = []) async throws {
        var query = [("fromSrc", "-"), ("repo", repository), ("tag", tag)]
        for change in changes { query.append(("changes", change)) }
        let request = EngineRequest("POST", "/images/create", query: query,
                                    body: .stream(tar, contentType: "application/x-tar", length: nil), timeoutSeconds: nil)
        try await expectCleanStream(try await call(request, as: "import"), request: request.summary)
    }

    /// Pulls `repository:tag` from its registry; progress goes to `progress`.
    public func pull(repository: String, tag: String, registryAuth: String? = nil, progress: @Sendable (BuildMessage) -> Void = { _ in }) async throws {
        var headers: [(String, String)] = []
        if let registryAuth { headers.append(("X-Registry-Auth", registryAuth)) }
        let request = EngineRequest("POST", "/images/create", query: [("fromImage", repository), ("tag", tag)], headers: headers, timeoutSeconds: nil)
        try await expectCleanStream(try await call(request, as: "pull"), request: request.summary, progress: progress)
    }

    /// Pushes `name:tag`; `registryAuth` is the base64url JSON the `X-Registry-Auth` header takes.
    public func push(_ name: String, tag: String, registryAuth: String, progress: @Sendable (BuildMessage) -> Void = { _ in }) async throws {
        let request = EngineRequest("POST", "/images/\(URLEncoding.pathSegment(name))/push", query: [("tag", tag)],
                                    headers: [("X-Registry-Auth", registryAuth)], timeoutSeconds: nil)
        try await expectCleanStream(try await call(request, as: "push"), request: request.summary, progress: progress)
    }

    /// Reads a JSON message stream and throws its error message, if it carries one.
    private func expectCleanStream(_ response: EngineResponse, request: String, progress: @Sendable (BuildMessage) -> Void = { _ in }) async throws {
        var decoder = JSONLineDecoder()
        for try await chunk in response.body {
            for message in decoder.feed(chunk) {
                if case .error(let text, _) = message { throw DockerEngineError.http(status: 200, request: request, message: text) }
                progress(message)
            }
        }
        for message in decoder.finish() {
            if case .error(let text, _) = message { throw DockerEngineError.http(status: 200, request: request, message: text) }
        }
    }

    // MARK: - Build

    /// Starts a build with `context` (a tar, streamed as the connection takes it) and returns
    /// the engine's messages as they arrive. Errors before the stream starts (a bad Dockerfile
    /// for the classic builder, bad parameters) are thrown; errors during the build arrive as
    /// ``BuildMessage/error(_:code:)``.
    public func build(context: ChunkSequence, parameters: BuildParameters) async throws -> BuildMessageStream {
        var query: [(String, String)] = [
            ("dockerfile", parameters.dockerfile), ("rm", "1"), ("forcerm", "1"),
            ("q", "0"), ("pull", "0"), ("version", parameters.builder.rawValue),
        ]
        if !parameters.tag.isEmpty { query.insert(("t", parameters.tag), at: 0) }
        if !parameters.buildArgs.isEmpty { query.append(("buildargs", Self.json(parameters.buildArgs))) }
        if !parameters.labels.isEmpty { query.append(("labels", Self.json(parameters.labels))) }
        if parameters.noCache { query.append(("nocache", "1")) }
        query += parameters.limits.query
        let request = EngineRequest("POST", "/build", query: query,
                                    body: .stream(context, contentType: "application/x-tar", length: nil), timeoutSeconds: nil)
        let response = try await call(request, as: "build")
        return BuildMessageStream(body: response.body)
    }

    // MARK: - Containers

    public func createContainer(_ spec: ContainerSpec, name: String? = nil) async throws -> String {
        struct Created: Decodable { var Id: String }
        var query: [(String, String)] = []
        if let name { query.append(("name", name)) }
        let request = EngineRequest("POST", "/containers/create", query: query,
                                    body: .bytes(Array(Self.json(spec).utf8), contentType: "application/json"))
        return try await decode(Created.self, request, as: "container-create").Id
    }

    public func startContainer(_ id: String) async throws {
        try await discard(EngineRequest("POST", "/containers/\(URLEncoding.pathSegment(id))/start"), as: "container-start")
    }

    /// Waits for the container to stop; `timeoutSeconds` nil waits as long as it takes.
    public func waitContainer(_ id: String, timeoutSeconds: Int64? = nil) async throws -> ContainerExit {
        try await decode(ContainerExit.self, EngineRequest("POST", "/containers/\(URLEncoding.pathSegment(id))/wait", timeoutSeconds: timeoutSeconds), as: "container-wait")
    }

    public func killContainer(_ id: String) async throws {
        try await discard(EngineRequest("POST", "/containers/\(URLEncoding.pathSegment(id))/kill"), as: "container-kill")
    }

    /// The container's stdout and stderr, separated from the engine's multiplexed stream.
    public func logs(_ id: String, limit: Int = 4 << 20) async throws -> (stdout: [UInt8], stderr: [UInt8]) {
        let response = try await call(EngineRequest("GET", "/containers/\(URLEncoding.pathSegment(id))/logs",
                                                    query: [("stdout", "1"), ("stderr", "1")]), as: "container-logs")
        var demultiplexer = LogDemultiplexer(limit: limit)
        for try await chunk in response.body { demultiplexer.feed(chunk) }
        return (demultiplexer.stdout, demultiplexer.stderr)
    }

    /// A path in the container's file system, as a tar stream.
    public func archive(_ id: String, path: String) async throws -> ChunkSequence? {
        do {
            return try await call(EngineRequest("GET", "/containers/\(URLEncoding.pathSegment(id))/archive", query: [("path", path)], timeoutSeconds: nil),
                                  as: "container-archive").body
        } catch let error as DockerEngineError where error.isNotFound {
            return nil
        }
    }

    public func removeContainer(_ id: String, force: Bool = true) async throws {
        do {
            try await discard(EngineRequest("DELETE", "/containers/\(URLEncoding.pathSegment(id))", query: [("force", force ? "1" : "0"), ("v", "1")]),
                              as: "container-remove")
        } catch let error as DockerEngineError where error.isNotFound {
            return
        }
    }
}

/// The decoded messages of a build, as they arrive.
public struct BuildMessageStream: AsyncSequence, Sendable {
    public typealias Element = BuildMessage
    let body: ChunkSequence

    public struct AsyncIterator: AsyncIteratorProtocol {
        var chunks: ChunkSequence.AsyncIterator
        var decoder = JSONLineDecoder()
        var queued: [BuildMessage] = []
        var ended = false

        public mutating func next() async throws -> BuildMessage? {
            while queued.isEmpty {
                if ended { return nil }
                if let chunk = try await chunks.next() {
                    queued = decoder.feed(chunk)
                } else {
                    ended = true
                    queued = decoder.finish()
                }
            }
            return queued.removeFirst()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(chunks: body.makeAsyncIterator()) }
}

/// Splits the engine's multiplexed log stream: frames of an 8-byte header (stream 1 or 2,
/// three zero bytes, a big-endian length) and that many bytes.
struct LogDemultiplexer {
    let limit: Int
    var pending: [UInt8] = []
    var stdout: [UInt8] = []
    var stderr: [UInt8] = []

    init(limit: Int) { self.limit = limit }

    mutating func feed(_ chunk: [UInt8]) {
        pending.append(contentsOf: chunk)
        var offset = 0
        while pending.count - offset >= 8 {
            let stream = pending[offset]
            let length = Int(pending[offset + 4]) << 24 | Int(pending[offset + 5]) << 16 | Int(pending[offset + 6]) << 8 | Int(pending[offset + 7])
            guard pending.count - offset - 8 >= length else { break }
            let payload = pending[(offset + 8)..<(offset + 8 + length)]
            if stream == 2 {
                if stderr.count < limit { stderr.append(contentsOf: payload.prefix(limit - stderr.count)) }
            } else if stdout.count < limit {
                stdout.append(contentsOf: payload.prefix(limit - stdout.count))
            }
            offset += 8 + length
        }
        pending.removeFirst(offset)
    }
}

/// Thread-safe counts of requests by call name.
public final class RequestStatistics: @unchecked Sendable {
    private let lock = NSLock()
    private var counts: [String: Int] = [:]

    public init() {}

    func record(_ name: String) {
        lock.lock()
        counts[name, default: 0] += 1
        lock.unlock()
    }

    public func count(_ name: String) -> Int {
        lock.lock()
        defer { lock.unlock() }
        return counts[name, default: 0]
    }

    public var all: [String: Int] {
        lock.lock()
        defer { lock.unlock() }
        return counts
    }
}
