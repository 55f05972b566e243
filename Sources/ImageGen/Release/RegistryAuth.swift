import Foundation

/// The `X-Registry-Auth` header for a push: credentials from IMAGEGEN_REGISTRY_USER and
/// IMAGEGEN_REGISTRY_PASSWORD, or from the docker config file's `auths` (`$DOCKER_CONFIG/config.json`
/// or `~/.docker/config.json`), or none. Credential helpers (`credsStore`) are not run.
/// Credentials are never printed; ``description`` says only where they came from.
public struct RegistryAuth: Sendable, CustomStringConvertible {
    /// base64url JSON, as the engine wants it.
    public let header: String
    public let source: String

    public var description: String { "credentials from \(source)" }

    public static func resolve(registry: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> RegistryAuth {
        if let user = environment["IMAGEGEN_REGISTRY_USER"], let password = environment["IMAGEGEN_REGISTRY_PASSWORD"] {
            return RegistryAuth(header: encode(username: user, password: password, server: registry), source: "IMAGEGEN_REGISTRY_USER")
        }
        let directory = environment["DOCKER_CONFIG"].flatMap { $0.isEmpty ? nil : $0 } ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.docker")
        let path = directory + "/config.json"
        if let data = FileManager.default.contents(atPath: path), let config = try? JSONValue(parsing: data), let auths = config["auths"]?.objectValue {
            for key in [registry, "https://" + registry, "http://" + registry] {
                guard let entry = auths[key] else { continue }
                if let encoded = entry["auth"]?.stringValue, let decoded = Data(base64Encoded: encoded).map({ String(decoding: $0, as: UTF8.self) }),
                   let colon = decoded.firstIndex(of: ":")
                {
                    return RegistryAuth(header: encode(username: String(decoded[..<colon]), password: String(decoded[decoded.index(after: colon)...]), server: registry),
                                        source: path)
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
