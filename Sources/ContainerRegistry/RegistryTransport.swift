import AsyncHTTPClient
import ContainerBasics
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// A registry's answer: status, headers (names lowercased) and body.
public struct RegistryResponse: Sendable {
    public var status: Int
    public var headers: [(String, String)]
    public var body: [UInt8]

    public init(status: Int, headers: [(String, String)], body: [UInt8]) {
        self.status = status
        self.headers = headers.map { ($0.0.lowercased(), $0.1) }
        self.body = body
    }

    func header(_ name: String) -> String? { headers.first { $0.0 == name }?.1 }
}

/// One HTTP request to a registry.
public struct RegistryRequest: Sendable {
    public var method: String
    public var url: String
    public var headers: [(String, String)]
    public var body: [UInt8]?

    public init(method: String, url: String, headers: [(String, String)], body: [UInt8]? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
    }
}

/// Carries registry requests; the real one is HTTP, tests may script one.
public protocol RegistryTransport: Sendable {
    /// Sends the request; the answer's body is read up to `limit` bytes.
    func send(_ request: RegistryRequest, limit: Int) async throws -> RegistryResponse
}

extension RegistryTransport {
    public func get(url: String, headers: [(String, String)], limit: Int) async throws -> RegistryResponse {
        try await send(RegistryRequest(method: "GET", url: url, headers: headers), limit: limit)
    }
}

/// Requests over AsyncHTTPClient, with redirects left to ``RegistryClient`` (so credentials do not
/// follow a redirect to another host). One client for the process, never shut down.
struct HTTPRegistryTransport: RegistryTransport {
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
    }()

    func send(_ registryRequest: RegistryRequest, limit: Int) async throws -> RegistryResponse {
        let url = registryRequest.url
        var request = HTTPClientRequest(url: url)
        request.method = HTTPMethod(rawValue: registryRequest.method)
        for (name, value) in registryRequest.headers { request.headers.add(name: name, value: value) }
        if let body = registryRequest.body { request.body = .bytes(ByteBuffer(bytes: body)) }
        let host = RegistryClient.origin(of: url)
        do {
            let response = try await Self.client.execute(request, timeout: .seconds(60))
            var body: [UInt8] = []
            for try await buffer in response.body {
                body += buffer.readableBytesView
                if body.count > limit {
                    throw RegistryError.unexpected(registry: host, what: url, reason: "the answer is larger than \(limit >> 20) MiB")
                }
            }
            return RegistryResponse(status: Int(response.status.code), headers: response.headers.map { ($0.name, $0.value) }, body: body)
        } catch let error as RegistryError {
            throw error
        } catch {
            throw RegistryError.unreachable(registry: host, reason: "\(error)")
        }
    }
}
