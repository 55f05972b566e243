import ContainerBasics
/// How a registry request failed, each with what a user can do about it.
public enum RegistryError: Error, Sendable, CustomStringConvertible, Equatable {
    case unreachable(registry: String, reason: String)
    /// `hint` says how a user gives credentials (the client's caller words it).
    case denied(registry: String, what: String, withCredentials: Bool, hint: String = "docker login")
    case http(registry: String, what: String, status: Int, message: String)
    case unexpected(registry: String, what: String, reason: String)

    public var description: String {
        switch self {
        case .unreachable(let registry, let reason):
            return "cannot reach the registry \(registry) (\(reason))"
        case .denied(let registry, let what, let withCredentials, let hint):
            return "the registry \(registry) refused \(what): " + (withCredentials ? "the credentials were not accepted" : "it needs credentials (\(hint))")
        case .http(let registry, let what, let status, let message):
            return "the registry \(registry) answered \(what) with HTTP \(status): \(message)"
        case .unexpected(let registry, let what, let reason):
            return "unexpected answer from the registry \(registry) for \(what): \(reason)"
        }
    }
}

extension RegistryError: ClassifiedError {
    public var exitStatus: ExitStatus { .failed }
}
