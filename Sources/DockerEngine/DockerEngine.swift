import ContainerBasics
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
    public static func connect(environment: [String: String] = ProcessInfo.processInfo.environment, connections: EngineConnections = .process) async throws -> DockerEngine {
        try await connect(endpoint: try EngineEndpoint.fromEnvironment(environment), connections: connections)
    }

    public static func connect(endpoint: EngineEndpoint, connections: EngineConnections = .process) async throws -> DockerEngine {
        try EndpointProbe.check(endpoint)
        let transport = try await HTTPEngineTransport.open(endpoint, connections: connections)
        return try await connect(transport: transport, pinnedAPIVersion: endpoint.pinnedAPIVersion)
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

    // MARK: - Requests

    /// Sends a request; a status of 400 or more becomes ``DockerEngineError/http(status:request:message:)``
    /// with the engine's own message.
    func call(_ request: EngineRequest, as name: String) async throws -> EngineResponse {
        statistics.record(name)
        let response = try await transport.send(request, apiVersion: apiVersion)
        guard response.status < 400 else {
            let body = (try? await response.collect(limit: 1 << 20, request: request.summary)) ?? []
            struct Message: Decodable { var message: String }
            let message =
                (try? JSONDecoder().decode(Message.self, from: Data(body)))?.message
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
}
