import Foundation
import ContainerBasics

/// Where the content-hash cache lives: `REGISTRY[/NAMESPACE]`. A layer's image is cached as
/// `REGISTRY/NAMESPACE/<recipe>-<layer>:<hash prefix>`: the tag is the hash of everything that
/// goes into the layer, so the registry itself is the cache, with no format of its own and no
/// export step.
public struct RegistryCache: Sendable, Hashable, CustomStringConvertible {
    public enum Mode: String, Sendable, CaseIterable {
        /// Pull what is there; push nothing (pull requests from forks, with no credentials to push).
        case read
        /// Pull hits, and push what was built.
        case readwrite
    }

    public let host: String
    public let namespace: String
    public var mode: Mode

    public init(parsing text: String, mode: Mode = .readwrite) throws(ValueError) {
        let trimmed = text.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        let parts = trimmed.split(separator: "/", maxSplits: 1).map(String.init)
        guard let host = parts.first, !host.isEmpty, (try? Repository(parsing: trimmed + "/probe")) != nil,
            host.contains(".") || host.contains(":") || host == "localhost"
        else { throw .cache("cache '\(text)' must be REGISTRY[/NAMESPACE], e.g. 127.0.0.1:5000/cache or ghcr.io/team/imagegen-cache") }
        self.host = host
        self.namespace = parts.count > 1 ? parts[1] : ""
        self.mode = mode
    }

    /// The cache repository of an image name (`<recipe>-<layer>`).
    public func repository(of imageName: Repository) -> Repository {
        // Host and namespace were checked to make a repository with any valid path below them.
        (try? Repository(parsing: ([host] + (namespace.isEmpty ? [] : [namespace]) + [imageName.path]).joined(separator: "/")))
            ?? imageName
    }

    public var description: String { namespace.isEmpty ? host : "\(host)/\(namespace)" }
}
