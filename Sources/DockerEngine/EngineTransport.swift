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

/// An async sequence of byte chunks made by a closure on demand: the consumer's pace is the
/// producer's pace, so nothing is buffered beyond one chunk.
public struct ChunkSequence: AsyncSequence, Sendable {
    public typealias Element = [UInt8]
    public typealias Producer = () async throws -> [UInt8]?

    private let make: @Sendable () throws -> Producer

    /// `make` is called once per iteration and returns the function that yields each chunk
    /// (nil at the end).
    public init(_ make: @escaping @Sendable () throws -> Producer) {
        self.make = make
    }

    public static let empty = ChunkSequence { { nil } }

    public static func of(_ bytes: [UInt8]) -> ChunkSequence {
        ChunkSequence {
            var sent = false
            return {
                if sent { return nil }
                sent = true
                return bytes
            }
        }
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        var producer: Producer?
        var failure: (any Error)?

        public mutating func next() async throws -> [UInt8]? {
            if let failure { throw failure }
            guard let producer else { return nil }
            while true {
                guard let chunk = try await producer() else {
                    self.producer = nil
                    return nil
                }
                if !chunk.isEmpty { return chunk }
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        do {
            return AsyncIterator(producer: try make())
        } catch {
            return AsyncIterator(producer: nil, failure: error)
        }
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
