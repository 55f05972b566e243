import ContainerBasics

/// Every way a call to the Docker engine can fail, each with what a user needs to act on it.
public enum DockerEngineError: Error, Sendable, CustomStringConvertible, Equatable {
    /// DOCKER_HOST and friends are malformed.
    case configuration(String)
    /// Nothing listens at the endpoint (socket missing, connection refused).
    case notRunning(endpoint: String, reason: String)
    /// `DOCKER_HOST=ssh://…` and ssh could not get through (what ssh said).
    case ssh(endpoint: String, reason: String)
    /// The socket exists but this user may not use it.
    case permissionDenied(endpoint: String)
    /// The TLS handshake or certificate setup failed.
    case tls(endpoint: String, reason: String)
    /// The engine speaks an API older than imagegen needs.
    case apiTooOld(server: APIVersion, minimum: APIVersion)
    /// The connection broke while a request was under way (the engine stopped or restarted).
    case connectionLost(endpoint: String, during: String, reason: String)
    /// The engine answered with an error status.
    case http(status: Int, request: String, message: String)
    /// The engine accepted the request, then reported a failure inside its streamed answer (a
    /// build step, a pull or push) under HTTP 200.
    case stream(request: String, message: String)
    /// The engine answered with something that is not the API's shape.
    case unexpectedResponse(request: String, reason: String)
    /// A deadline passed.
    case timeout(request: String)

    public var description: String {
        switch self {
        case .configuration(let message):
            return "docker engine configuration: \(message)"
        case .notRunning(let endpoint, let reason):
            return "cannot reach the Docker engine at \(endpoint) (\(reason)): is dockerd running? Start it, or set DOCKER_HOST to where it listens"
        case .ssh(let endpoint, let reason):
            return
                "cannot reach the Docker engine at \(endpoint) through ssh (\(reason)): check that ssh to that machine works without a prompt (keys, known hosts) and that it has docker"
        case .permissionDenied(let endpoint):
            return
                "permission denied on the Docker engine socket \(endpoint): add your user to the 'docker' group (sudo usermod -aG docker $USER, then log in again) or run as root"
        case .tls(let endpoint, let reason):
            return "TLS with the Docker engine at \(endpoint) failed: \(reason) (check DOCKER_CERT_PATH holds ca.pem, cert.pem and key.pem for this engine)"
        case .apiTooOld(let server, let minimum):
            return "the Docker engine speaks API \(server), older than \(minimum), the oldest imagegen supports: upgrade Docker (19.03 or newer)"
        case .connectionLost(let endpoint, let during, let reason):
            return "lost the connection to the Docker engine at \(endpoint) during \(during) (\(reason))"
        case .http(let status, let request, let message):
            return "the Docker engine refused \(request): \(message) (HTTP \(status))"
        case .stream(let request, let message):
            return "\(request) failed: \(message)"
        case .unexpectedResponse(let request, let reason):
            return "unexpected answer from the Docker engine to \(request): \(reason)"
        case .timeout(let request):
            return "the Docker engine did not answer \(request) in time"
        }
    }

    /// The engine answered and said no (an error status, or a failure in a stream): this request
    /// failed, the engine is there. Any other case means the engine could not be used at all.
    public var isRefusal: Bool {
        switch self {
        case .http, .stream: true
        default: false
        }
    }

    /// The engine's own words, for a refusal.
    public var refusalMessage: String? {
        switch self {
        case .http(_, _, let message), .stream(_, let message): message
        default: nil
        }
    }

    /// True for a 404 from the engine (no such image or container).
    public var isNotFound: Bool {
        if case .http(404, _, _) = self { return true }
        return false
    }
}

extension DockerEngineError: ClassifiedError {
    /// The engine could not be reached or refused: 3. (Where a refusal is one layer's failure, a
    /// build step, the stage reports it and goes on; what reaches a command is the engine's.)
    public var exitStatus: ExitStatus { .engine }
}
