import AsyncHTTPClient
import ContainerBasics
import Foundation
import NIOCore
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

/// Carries registry GETs; the real one is HTTP, tests may script one.
public protocol RegistryTransport: Sendable {
    func get(url: String, headers: [(String, String)], limit: Int) async throws -> RegistryResponse
}

/// GETs over AsyncHTTPClient, with redirects left to ``RegistryClient`` (so credentials do not
/// follow a redirect to another host). One client for the process, never shut down.
struct HTTPRegistryTransport: RegistryTransport {
    private static let client: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(30))
        return HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
    }()

    func get(url: String, headers: [(String, String)], limit: Int) async throws -> RegistryResponse {
        var request = HTTPClientRequest(url: url)
        request.method = .GET
        for (name, value) in headers { request.headers.add(name: name, value: value) }
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
