import ContainerBasics
import Foundation

/// The `X-Registry-Auth` header for a push: credentials from the environment variables the
/// caller names (``CredentialVariables``), or from the docker config file's `auths` (`$DOCKER_CONFIG/config.json`
/// or `~/.docker/config.json`): its credential helper for the registry (`credHelpers`) or its
/// store (`credsStore`), run as `docker-credential-NAME get` as the docker CLI does, else its
/// `auths`; or none.
/// Credentials are never printed; ``description`` says only where they came from.
public struct RegistryAuth: Sendable, CustomStringConvertible {
    /// base64url JSON, as the engine wants it.
    public let header: String
    public let source: String
    /// The user name and password, for reading the registry directly (nil when anonymous, or
    /// when the config holds only an identity token).
    public let credentials: RegistryClient.Credentials?

    public init(header: String, source: String, credentials: RegistryClient.Credentials? = nil) {
        self.header = header
        self.source = source
        self.credentials = credentials
    }

    public var description: String { "credentials from \(source)" }

    /// Environment variables a tool reads a registry's user and password from (its own names).
    public struct CredentialVariables: Sendable {
        public var user: String
        public var password: String
        public init(user: String, password: String) {
            self.user = user
            self.password = password
        }

        /// How a user gives credentials, for an error that needs them.
        public var hint: String { "\(user) and \(password), or docker login" }
    }

    public static func resolve(
        registry: String, environment: [String: String] = ProcessInfo.processInfo.environment, variables: CredentialVariables? = nil
    ) async -> RegistryAuth {
        if let variables, let user = environment[variables.user], let password = environment[variables.password] {
            return RegistryAuth(
                header: encode(username: user, password: password, server: registry), source: variables.user,
                credentials: .init(username: user, password: password))
        }
        let directory = environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.docker")
        let path = directory + "/config.json"
        guard let data = FileManager.default.contents(atPath: path), let config = try? JSONValue(parsing: data) else {
            return RegistryAuth(header: base64URL("{}"), source: "none (anonymous)")
        }
        // As the docker CLI: a helper named for this registry, else the store for all, else `auths`.
        let helper = config["credHelpers"]?.objectValue?[registry]?.stringValue ?? config["credsStore"]?.stringValue
        if let helper, !helper.isEmpty {
            let serverURL = registry == "docker.io" ? "https://index.docker.io/v1/" : registry
            if let found = await CredentialHelper.get(helper, serverURL: serverURL, environment: environment) {
                let source = "docker-credential-\(helper)"
                if found.username == "<token>" {
                    return RegistryAuth(
                        header: base64URL(JSONValue.object(["identitytoken": .string(found.secret), "serveraddress": .string(registry)]).canonical), source: source)
                }
                return RegistryAuth(
                    header: encode(username: found.username, password: found.secret, server: registry), source: source,
                    credentials: .init(username: found.username, password: found.secret))
            }
        }
        if let auths = config["auths"]?.objectValue {
            for key in [registry, "https://" + registry, "http://" + registry] {
                guard let entry = auths[key] else { continue }
                if let encoded = entry["auth"]?.stringValue, let decoded = Data(base64Encoded: encoded).map({ String(decoding: $0, as: UTF8.self) }),
                    let colon = decoded.firstIndex(of: ":")
                {
                    let username = String(decoded[..<colon]), password = String(decoded[decoded.index(after: colon)...])
                    return RegistryAuth(
                        header: encode(username: username, password: password, server: registry), source: path,
                        credentials: .init(username: username, password: password))
                }
                if let token = entry["identitytoken"]?.stringValue {
                    return RegistryAuth(header: base64URL(JSONValue.object(["identitytoken": .string(token), "serveraddress": .string(registry)]).canonical), source: path)
                }
            }
        }
        return RegistryAuth(header: base64URL("{}"), source: "none (anonymous)")
    }

    static func encode(username: String, password: String, server: String) -> String {
        base64URL(JSONValue.object(["username": .string(username), "password": .string(password), "serveraddress": .string(server)]).canonical)
    }

    static func base64URL(_ text: String) -> String {
        Data(text.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
    }
}

/// Runs a docker credential helper (`docker-credential-NAME get`, the server URL on stdin, JSON
/// with `Username` and `Secret` on stdout). Its output is never logged; a helper that fails or
/// has nothing for the server gives nil.
enum CredentialHelper {
    struct Found {
        var username: String
        var secret: String
    }

    static func get(_ name: String, serverURL: String, environment: [String: String]) async -> Found? {
        guard name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == "." }) else { return nil }
        guard
            let result = try? await Subprocess.run(
                "docker-credential-" + name, ["get"], environment: environment, input: Array(serverURL.utf8),
                timeoutSeconds: 30),
            result.status == 0, let answer = try? JSONValue(parsing: result.stdout),
            let username = answer["Username"]?.stringValue, let secret = answer["Secret"]?.stringValue, !secret.isEmpty
        else { return nil }
        return Found(username: username, secret: secret)
    }
}
