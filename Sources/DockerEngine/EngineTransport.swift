import ContainerBasics

/// One HTTP request to the engine, before it is put on the wire.
public struct EngineRequest: Sendable {
    public var method: String
    /// The API path without the version prefix, e.g. `/images/debian:12/json`.
    public var path: String
    public var query: [(String, String)]
    public var headers: [(String, String)]
    public var body: Body
    /// Prefix the path with `/v<api version>` (everything but `/_ping`).
    public var versioned: Bool
    /// Deadline for the whole exchange (nil: none, for long builds and streams).
    public var timeoutSeconds: Int64?

    public enum Body: Sendable {
        case empty
        case bytes([UInt8], contentType: String)
        /// A body produced chunk by chunk as the connection can take it; `length` nil is chunked.
        case stream(ChunkSequence, contentType: String, length: Int64?)
    }

    public init(
        _ method: String, _ path: String, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: Body = .empty, versioned: Bool = true, timeoutSeconds: Int64? = 120
    ) {
        self.method = method
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.versioned = versioned
        self.timeoutSeconds = timeoutSeconds
    }

    /// `GET /images/x/json` for messages.
    public var summary: String { "\(method) \(path)" }
}

/// The engine's answer: status, headers, and a body to read as a stream.
public struct EngineResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: ChunkSequence

    public init(status: Int, headers: [(String, String)], body: ChunkSequence) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.0.lowercased() == name.lowercased() }?.1
    }

    /// The whole body, refusing more than `limit` bytes.
    public func collect(limit: Int = 64 << 20, request: String) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await chunk in body {
            guard bytes.count + chunk.count <= limit else {
                throw DockerEngineError.unexpectedResponse(request: request, reason: "answer larger than \(limit) bytes")
            }
            bytes.append(contentsOf: chunk)
        }
        return bytes
    }
}

/// Sends requests to an engine. The production transport speaks HTTP over a Unix socket or
/// TCP (+TLS); unit tests use an in-memory one.
public protocol EngineTransport: Sendable {
    /// Sends `request` with `apiVersion` prefixed to versioned paths.
    func send(_ request: EngineRequest, apiVersion: APIVersion?) async throws -> EngineResponse
    /// What to call the endpoint in messages.
    var endpointDescription: String { get }
}

extension EngineRequest {
    /// The request target: the path with the API version in front (when versioned) and the query.
    func target(apiVersion: APIVersion?) -> String {
        var target = path
        if versioned, let apiVersion { target = "/v\(apiVersion)" + target }
        if !query.isEmpty { target += "?" + URLEncoding.query(query) }
        return target
    }
}
