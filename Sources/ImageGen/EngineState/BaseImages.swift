import DockerEngine
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry

/// The identity of each external base image, the same on every machine that has the same base:
/// its pinned digest; else the registry digest the engine recorded when it pulled it; else, for
/// a base made locally (imported, loaded), the digest of its root file system's diff IDs, which
/// depend on its content only. (A local image ID would differ on every machine that imported
/// it, so a cache could never hit across runners.) A base with new content is a new identity,
/// and every layer on it rebuilds.
public enum BaseImages {
    public enum Resolution: Sendable, Equatable {
        case resolved(identity: String)
        case missing(message: String)
    }

    public static func resolve(
        _ references: [ImageReference], engine: DockerEngine, pull: Bool,
        resolved: @Sendable (_ reference: String, _ identity: String) -> Void = { _, _ in }
    ) async throws -> [ImageReference: Resolution] {
        var result: [ImageReference: Resolution] = [:]
        for reference in references where result[reference] == nil {
            var image = try await engine.inspectImage(reference)
            if image == nil, pull {
                do {
                    try await engine.pull(reference)
                    image = try await engine.inspectImage(reference)
                } catch let error as DockerEngineError {
                    if let message = error.refusalMessage {
                        result[reference] = .missing(message: "base image \(reference) could not be pulled: \(message)")
                        continue
                    }
                    throw error
                }
            }
            guard let image else {
                // The two images this repository's scripts/provision-images makes without a registry.
                let how =
                    ["imagegen-test/busybox:1", "debian:bookworm-slim"].contains(reference.description)
                    ? "scripts/provision-images makes it offline; or "
                    : ""
                result[reference] = .missing(message: "base image \(reference) is not in the engine: \(how)run `docker pull \(reference)` (or build with --pull)")
                continue
            }
            let identity = Self.identity(of: image, named: reference)
            result[reference] = .resolved(identity: identity)
            resolved(reference.description, identity)
        }
        return result
    }

    /// See the type's notes.
    public static func identity(of image: ImageInspect, named reference: ImageReference) -> String {
        if let digest = reference.digest { return digest.description }
        let repository = shortName(reference.repository.description)
        for entry in image.repoDigests ?? [] {
            guard let at = entry.lastIndex(of: "@"), shortName(String(entry[..<at])) == repository,
                let digest = try? Digest(parsing: String(entry[entry.index(after: at)...]))
            else { continue }
            return digest.description
        }
        let diffIDs = (image.rootFS?.layers ?? []).map(\.description).joined(separator: ",")
        return "rootfs:sha256:" + sha256Hex(Array(diffIDs.utf8))
    }

    /// A repository name as the engine writes it for Docker Hub: `debian`, not `docker.io/library/debian`.
    static func shortName(_ name: String) -> String {
        var name = Substring(name)
        for prefix in ["docker.io/", "index.docker.io/", "registry-1.docker.io/"] where name.hasPrefix(prefix) { name = name.dropFirst(prefix.count) }
        if name.hasPrefix("library/"), name.dropFirst("library/".count).contains("/") == false { name = name.dropFirst("library/".count) }
        return String(name)
    }
}
