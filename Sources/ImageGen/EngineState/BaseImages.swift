import DockerEngine

/// The identity of each external base image: its pinned digest, or the ID the engine reports
/// for the tag (so a re-pulled tag counts as a new base).
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
                    if case .http(_, _, let message) = error {
                        result[reference] = .missing(message: "base image \(reference) could not be pulled: \(message)")
                        continue
                    }
                    throw error
                }
            }
            guard let image else {
                // The two images this repository's scripts/provision-images makes without a registry.
                let how = ["imagegen-test/busybox:1", "debian:bookworm-slim"].contains(reference.description)
                    ? "scripts/provision-images makes it offline; or "
                    : ""
                result[reference] = .missing(message: "base image \(reference) is not in the engine: \(how)run `docker pull \(reference)` (or build with --pull)")
                continue
            }
            let identity = (reference.digest ?? image.id).description
            result[reference] = .resolved(identity: identity)
            resolved(reference.description, identity)
        }
        return result
    }
}
