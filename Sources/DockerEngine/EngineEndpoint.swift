import Foundation

/// Where the Docker engine listens and how to reach it, read the way the docker CLI reads it:
/// `DOCKER_HOST` (`unix:///path`, `tcp://host:port` or `ssh://[user@]host[:port]`), `DOCKER_TLS_VERIFY` and
/// `DOCKER_CERT_PATH` (`ca.pem`, `cert.pem`, `key.pem`, default `~/.docker`), and
/// `DOCKER_API_VERSION` to pin the API version.
public struct EngineEndpoint: Sendable, Hashable, CustomStringConvertible {
    public enum Address: Sendable, Hashable {
        case unixSocket(path: String)
        case tcp(host: String, port: Int)
        /// The engine of another machine, through `ssh … docker system dial-stdio` (see
        /// ``SSHTunnel``); `socketPath` is the remote engine's socket when the URL names one.
        case ssh(user: String?, host: String, port: Int?, socketPath: String?)
    }

    public struct TLS: Sendable, Hashable {
        public var caPath: String
        public var certificatePath: String
        public var keyPath: String
        /// Verify the server's certificate against `caPath` (DOCKER_TLS_VERIFY).
        public var verify: Bool

        public init(certificateDirectory: String, verify: Bool = true) {
            caPath = certificateDirectory + "/ca.pem"
            certificatePath = certificateDirectory + "/cert.pem"
            keyPath = certificateDirectory + "/key.pem"
            self.verify = verify
        }
    }

    public static let defaultSocket = "/var/run/docker.sock"

    public var address: Address
    public var tls: TLS?
    /// An API version to use instead of negotiating one (`DOCKER_API_VERSION`).
    public var pinnedAPIVersion: APIVersion?

    public init(address: Address, tls: TLS? = nil, pinnedAPIVersion: APIVersion? = nil) {
        self.address = address
        self.tls = tls
        self.pinnedAPIVersion = pinnedAPIVersion
    }

    public var description: String {
        switch address {
        case .unixSocket(let path): "unix://\(path)"
        case .tcp(let host, let port): "tcp://\(host):\(port)"
        case .ssh(let user, let host, let port, let socketPath):
            "ssh://" + (user.map { $0 + "@" } ?? "") + host + (port.map { ":\($0)" } ?? "") + (socketPath ?? "")
        }
    }

    /// The endpoint the environment names, as the docker CLI would pick it.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) throws(DockerEngineError) -> EngineEndpoint {
        var endpoint: EngineEndpoint
        if let host = environment["DOCKER_HOST"], !host.isEmpty {
            endpoint = try parse(host)
        } else {
            endpoint = EngineEndpoint(address: .unixSocket(path: defaultSocket))
        }
        if let verify = environment["DOCKER_TLS_VERIFY"], !verify.isEmpty {
            let directory =
                environment["DOCKER_CERT_PATH"].flatMap { $0.isEmpty ? nil : $0 }
                ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.docker")
            guard case .tcp = endpoint.address else {
                throw .configuration("DOCKER_TLS_VERIFY is set but DOCKER_HOST (\(endpoint)) is not a tcp:// address")
            }
            endpoint.tls = TLS(certificateDirectory: directory, verify: true)
        }
        if let version = environment["DOCKER_API_VERSION"], !version.isEmpty {
            guard let parsed = APIVersion(version) else {
                throw .configuration("DOCKER_API_VERSION '\(version)' is not a version like 1.41")
            }
            endpoint.pinnedAPIVersion = parsed
        }
        return endpoint
    }

    public static func parse(_ host: String) throws(DockerEngineError) -> EngineEndpoint {
        if host.hasPrefix("unix://") {
            let path = String(host.dropFirst("unix://".count))
            guard path.hasPrefix("/") else { throw .configuration("DOCKER_HOST '\(host)' must name an absolute socket path") }
            return EngineEndpoint(address: .unixSocket(path: path))
        }
        if host.hasPrefix("tcp://") {
            var rest = Substring(host.dropFirst("tcp://".count))
            if let slash = rest.firstIndex(of: "/") { rest = rest[..<slash] }
            let hostPart: Substring, portPart: Substring?
            if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
                hostPart = rest[rest.index(after: rest.startIndex)..<close]
                let after = rest[rest.index(after: close)...]
                portPart = after.hasPrefix(":") ? after.dropFirst() : nil
            } else if let colon = rest.lastIndex(of: ":") {
                hostPart = rest[..<colon]
                portPart = rest[rest.index(after: colon)...]
            } else {
                hostPart = rest
                portPart = nil
            }
            guard !hostPart.isEmpty else { throw .configuration("DOCKER_HOST '\(host)' has no host") }
            let port = portPart.flatMap { Int($0) } ?? 2375
            guard (1...65535).contains(port), portPart.map({ Int($0) != nil }) ?? true else {
                throw .configuration("DOCKER_HOST '\(host)' has an invalid port")
            }
            return EngineEndpoint(address: .tcp(host: String(hostPart), port: port))
        }
        if host.hasPrefix("ssh://") {
            var rest = Substring(host.dropFirst("ssh://".count))
            var socketPath: String?
            if let slash = rest.firstIndex(of: "/") {
                socketPath = String(rest[slash...])
                rest = rest[..<slash]
                if socketPath == "/" { socketPath = nil }
            }
            var user: String?
            if let at = rest.lastIndex(of: "@") {
                user = String(rest[..<at])
                rest = rest[rest.index(after: at)...]
                guard !(user?.isEmpty ?? true) else { throw .configuration("DOCKER_HOST '\(host)' has an empty user name") }
            }
            var port: Int?
            if let colon = rest.lastIndex(of: ":"), !rest.hasSuffix("]") {
                guard let number = Int(rest[rest.index(after: colon)...]), (1...65535).contains(number) else {
                    throw .configuration("DOCKER_HOST '\(host)' has an invalid port")
                }
                port = number
                rest = rest[..<colon]
            }
            let hostName = rest.hasPrefix("[") && rest.hasSuffix("]") ? String(rest.dropFirst().dropLast()) : String(rest)
            guard !hostName.isEmpty, !hostName.hasPrefix("-") else { throw .configuration("DOCKER_HOST '\(host)' has no host") }
            return EngineEndpoint(address: .ssh(user: user, host: hostName, port: port, socketPath: socketPath))
        }
        throw .configuration("DOCKER_HOST '\(host)' must start with unix://, tcp:// or ssh:// (npipe:// is Windows only)")
    }
}

/// A Docker Engine API version, `MAJOR.MINOR`.
public struct APIVersion: Sendable, Hashable, Comparable, CustomStringConvertible {
    public var major: Int
    public var minor: Int

    public init(_ major: Int, _ minor: Int) {
        self.major = major
        self.minor = minor
    }

    public init?(_ text: String) {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let major = Int(parts[0]), let minor = Int(parts[1]), major >= 0, minor >= 0 else { return nil }
        self.init(major, minor)
    }

    public var description: String { "\(major).\(minor)" }

    public static func < (lhs: APIVersion, rhs: APIVersion) -> Bool { (lhs.major, lhs.minor) < (rhs.major, rhs.minor) }

    /// The oldest API imagegen works with (Docker 19.03): BuildKit builds and label filters.
    public static let minimumSupported = APIVersion(1, 40)
    /// The newest API imagegen speaks.
    public static let maximumSupported = APIVersion(1, 45)
}
