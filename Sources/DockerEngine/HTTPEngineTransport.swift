import ContainerBasics
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// The engine transport over HTTP/1.1: a Unix socket (`http+unix://`) or TCP, with TLS client
/// certificates when the endpoint has them.
///
/// Its HTTP client (and ssh tunnel) belong to an ``EngineConnections`` pool, which outlives the
/// transport and is shut down by its owner; connections stay pooled between calls.
public final class HTTPEngineTransport: EngineTransport {
    public let endpoint: EngineEndpoint
    private let client: HTTPClient
    private let baseURL: String
    private let tunnel: SSHTunnel?

    public var endpointDescription: String { endpoint.description }

    /// The transport for an endpoint (through its ssh tunnel, for `ssh://`).
    public static func open(_ endpoint: EngineEndpoint, connections: EngineConnections = .process) async throws -> HTTPEngineTransport {
        try HTTPEngineTransport(endpoint: endpoint, connections: connections)
    }

    public init(
        endpoint: EngineEndpoint, connections: EngineConnections = .process,
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(DockerEngineError) {
        self.endpoint = endpoint
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .seconds(10), read: .seconds(3600))
        configuration.decompression = .disabled
        configuration.redirectConfiguration = .disallow
        // Builds, exports and logs each hold a connection while they stream; a local engine
        // takes many at once, and a pool of 8 made a ninth request wait until it timed out.
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 64)
        var tunnel: SSHTunnel?
        switch endpoint.address {
        case .unixSocket(let path):
            baseURL = "http+unix://" + URLEncoding.encode(path)
        case .tcp(let host, let port):
            let hostPart = host.contains(":") ? "[\(host)]" : host
            baseURL = (endpoint.tls == nil ? "http://" : "https://") + "\(hostPart):\(port)"
        case .ssh:
            let shared = try connections.tunnel(for: endpoint, environment: environment)
            tunnel = shared
            baseURL = "http+unix://" + URLEncoding.encode(shared.socketPath)
        }
        self.tunnel = tunnel
        if let tls = endpoint.tls {
            do {
                var tlsConfiguration = TLSConfiguration.makeClientConfiguration()
                tlsConfiguration.trustRoots = .file(tls.caPath)
                tlsConfiguration.certificateChain = try NIOSSLCertificate.fromPEMFile(tls.certificatePath).map { .certificate($0) }
                tlsConfiguration.privateKey = .privateKey(try NIOSSLPrivateKey(file: tls.keyPath, format: .pem))
                tlsConfiguration.certificateVerification = tls.verify ? .fullVerification : .none
                configuration.tlsConfiguration = tlsConfiguration
            } catch {
                throw .tls(endpoint: endpoint.description, reason: "cannot load the certificates: \(error)")
            }
        }
        client = try connections.client(for: endpoint, configuration: configuration)
    }

    public func send(_ request: EngineRequest, apiVersion: APIVersion?) async throws -> EngineResponse {
        var http = HTTPClientRequest(url: baseURL + request.target(apiVersion: apiVersion))
        http.method = HTTPMethod(rawValue: request.method)
        // dockerd refuses requests without a Host header, which AsyncHTTPClient omits for sockets.
        http.headers.add(name: "Host", value: "docker")
        http.headers.add(name: "User-Agent", value: "imagegen")
        for (name, value) in request.headers { http.headers.add(name: name, value: value) }
        switch request.body {
        case .empty:
            break
        case .bytes(let bytes, let contentType):
            http.headers.add(name: "Content-Type", value: contentType)
            http.body = .bytes(ByteBuffer(bytes: bytes))
        case .stream(let chunks, let contentType, let length):
            http.headers.add(name: "Content-Type", value: contentType)
            http.body = .stream(ByteBufferSequence(chunks: chunks), length: length.map { .known($0) } ?? .unknown)
        }
        let response: HTTPClientResponse
        let started = DispatchTime.now().uptimeNanoseconds
        do {
            if let seconds = request.timeoutSeconds {
                response = try await client.execute(http, timeout: .seconds(seconds))
            } else {
                response = try await client.execute(http, deadline: .distantFuture)
            }
        } catch {
            throw await classify(error, during: request.summary, since: started)
        }
        let body = response.body
        let endpointName = endpoint.description
        let summary = request.summary
        return EngineResponse(
            status: Int(response.status.code),
            headers: response.headers.map { ($0.name, $0.value) },
            body: ChunkSequence {
                var iterator = body.makeAsyncIterator()
                return {
                    do {
                        guard let buffer = try await iterator.next() else { return nil }
                        return Array(buffer.readableBytesView)
                    } catch {
                        throw HTTPEngineTransport.classify(error, endpoint: endpointName, during: summary)
                    }
                }
            })
    }

    private func classify(_ error: any Error, during request: String, since start: UInt64) async -> any Error {
        let classified = Self.classify(error, endpoint: endpoint.description, during: request, connecting: true)
        // Through ssh, a connection that closes at once is ssh failing: say what ssh said.
        if let tunnel, let engineError = classified as? DockerEngineError {
            switch engineError {
            case .connectionLost, .notRunning:
                if let reason = await tunnel.failure(since: start) { return DockerEngineError.ssh(endpoint: endpoint.description, reason: reason) }
            default: break
            }
        }
        return classified
    }

    /// Maps NIO and AsyncHTTPClient failures to the one error a user can act on.
    static func classify(_ error: any Error, endpoint: String, during request: String, connecting: Bool = false) -> any Error {
        if error is DockerEngineError || error is CancellationError { return error }
        if let http = error as? HTTPClientError, http == .cancelled { return CancellationError() }
        let text = String(describing: error)
        let errnoCode: Int32? =
            (error as? IOError)?.errnoCode
            ?? (error as? NIOConnectionError)?.connectionErrors.compactMap { ($0.error as? IOError)?.errnoCode }.first
        if errnoCode == EACCES || errnoCode == EPERM { return DockerEngineError.permissionDenied(endpoint: endpoint) }
        if error is NIOSSLError || error is BoringSSLError || text.contains("handshake") || text.contains("SSL") || text.contains("certificate") {
            return DockerEngineError.tls(endpoint: endpoint, reason: text)
        }
        if let http = error as? HTTPClientError, http == .deadlineExceeded || http == .readTimeout {
            return DockerEngineError.timeout(request: request)
        }
        if connecting,
            errnoCode == ENOENT || errnoCode == ECONNREFUSED || error is NIOConnectionError
                || (error as? HTTPClientError) == .connectTimeout
        {
            let reason = errnoCode == ENOENT ? "no such socket" : errnoCode == ECONNREFUSED ? "connection refused" : text
            return DockerEngineError.notRunning(endpoint: endpoint, reason: reason)
        }
        return DockerEngineError.connectionLost(endpoint: endpoint, during: request, reason: text)
    }
}

/// Adapts a ``ChunkSequence`` to the `ByteBuffer` sequence AsyncHTTPClient uploads; it pulls the
/// next chunk only when the connection is ready for it.
struct ByteBufferSequence: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let chunks: ChunkSequence

    struct AsyncIterator: AsyncIteratorProtocol {
        var inner: ChunkSequence.AsyncIterator
        mutating func next() async throws -> ByteBuffer? {
            try await inner.next().map { ByteBuffer(bytes: $0) }
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(inner: chunks.makeAsyncIterator()) }
}
