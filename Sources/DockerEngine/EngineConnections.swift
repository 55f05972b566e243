import AsyncHTTPClient
import ContainerBasics
import Foundation
import NIOPosix

/// The connections a process keeps to its engines: one HTTP client per endpoint (its connections
/// pooled between calls) and one ssh tunnel per `ssh://` endpoint. Owned, with a shutdown: the
/// command line shuts its pool down when it ends (``process``), a test or a library user can
/// make their own. A client dropped without `shutdown()` traps in AsyncHTTPClient, so clients
/// live in the pool, not in the transports that use them.
public final class EngineConnections: Sendable {
    /// The pool `DockerEngine.connect` uses unless given another; the CLI shuts it down at exit.
    public static let process = EngineConnections()

    private struct State: Sendable {
        var clients: [EngineEndpoint: HTTPClient] = [:]
        var tunnels: [EngineEndpoint: SSHTunnel] = [:]
        var shutDown = false
        var sshCommand = ["ssh"]
    }

    private let state = Locked(State())

    public init() {}

    /// The ssh command (and its options) `ssh://` endpoints connect with, from now on: `["ssh"]`
    /// unless set (`["ssh", "-F", "path/config"]`).
    public var sshCommand: [String] {
        get { state.value.sshCommand }
    }

    public func setSSHCommand(_ command: [String]) {
        state.withLock { $0.sshCommand = command.isEmpty ? ["ssh"] : command }
    }

    /// The client for `endpoint`, made with `configuration` the first time.
    func client(for endpoint: EngineEndpoint, configuration: HTTPClient.Configuration) throws(DockerEngineError) -> HTTPClient {
        try state.withLock { state -> Result<HTTPClient, DockerEngineError> in
            if state.shutDown { return .failure(.configuration("the engine connections were shut down")) }
            if let client = state.clients[endpoint] { return .success(client) }
            let client = HTTPClient(eventLoopGroupProvider: .shared(MultiThreadedEventLoopGroup.singleton), configuration: configuration)
            state.clients[endpoint] = client
            return .success(client)
        }.get()
    }

    /// The ssh tunnel for an `ssh://` endpoint, opened the first time.
    func tunnel(for endpoint: EngineEndpoint, environment: [String: String]) throws(DockerEngineError) -> SSHTunnel {
        try state.withLock { state -> Result<SSHTunnel, DockerEngineError> in
            if state.shutDown { return .failure(.configuration("the engine connections were shut down")) }
            if let tunnel = state.tunnels[endpoint] { return .success(tunnel) }
            do throws(DockerEngineError) {
                let tunnel = try SSHTunnel(endpoint: endpoint, ssh: state.sshCommand, environment: environment)
                state.tunnels[endpoint] = tunnel
                return .success(tunnel)
            } catch {
                return .failure(error)
            }
        }.get()
    }

    /// Closes every client and tunnel; later connects fail. Safe to call more than once.
    public func shutdown() async {
        let (clients, tunnels) = state.withLock { state -> ([HTTPClient], [SSHTunnel]) in
            defer {
                state.clients = [:]
                state.tunnels = [:]
                state.shutDown = true
            }
            return (Array(state.clients.values), Array(state.tunnels.values))
        }
        for client in clients { try? await client.shutdown() }
        for tunnel in tunnels { tunnel.stop() }
    }
}
