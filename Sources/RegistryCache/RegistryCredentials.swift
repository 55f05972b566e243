import ContainerRegistry
import Foundation

/// How imagegen reaches registries: credentials from `IMAGEGEN_REGISTRY_USER` and
/// `IMAGEGEN_REGISTRY_PASSWORD` (else the docker config's), and errors that name them. The
/// registry client knows none of imagegen's variables; this is where they are given to it.
public enum RegistryCredentials {
    public static let variables = RegistryAuth.CredentialVariables(user: "IMAGEGEN_REGISTRY_USER", password: "IMAGEGEN_REGISTRY_PASSWORD")

    public static func resolve(registry: String, environment: [String: String] = ProcessInfo.processInfo.environment) async -> RegistryAuth {
        await RegistryAuth.resolve(registry: registry, environment: environment, variables: variables)
    }

    /// A client for `host` with `auth`'s credentials.
    public static func client(host: String, auth: RegistryAuth, transport: (any RegistryTransport)? = nil) -> RegistryClient {
        RegistryClient(host: host, credentials: auth.credentials, transport: transport, credentialsHint: variables.hint)
    }
}
