import DockerEngine

/// Is a layer already built? An image counts only if it carries the layer's content hash and
/// was built on the same base image (by ID or pinned digest) as the one the engine has now.
public enum LayerCache {
    public enum Status: Sendable, Equatable {
        /// Tagged `<name>:<hash prefix>` and current.
        case built(imageID: String, size: Int64?)
        /// An image with the right labels exists but lost its tag; tagging it again is enough.
        case untagged(imageID: String)
        /// Tagged, but built on another base image, or carrying another hash.
        case stale(reason: String)
        case missing
    }

    public static func status(of layer: LayerPlan, baseIdentity: String, engine: DockerEngine, index: RecipeImages? = nil) async throws -> Status {
        if let image = try await engine.inspectImage(layer.reference) {
            let labels = image.labels
            if labels[ImageLabels.contentHash] != layer.contentHash {
                return .stale(reason: "\(layer.reference) carries content hash \(labels[ImageLabels.contentHash].map { String($0.prefix(12)) } ?? "none")")
            }
            if let built = labels[ImageLabels.baseImage], built != baseIdentity {
                return .stale(reason: "the base image changed (\(shortID(built)) → \(shortID(baseIdentity)))")
            }
            return .built(imageID: image.id, size: image.size)
        }
        let images = index ?? RecipeImages(recipe: recipeName(of: layer), engine: engine)
        if let id = try await images.find(contentHash: layer.contentHash, baseImage: baseIdentity) { return .untagged(imageID: id) }
        return .missing
    }

    static func recipeName(of layer: LayerPlan) -> String {
        String(layer.imageName.dropLast(layer.name.count + 1))
    }

    static func shortID(_ id: String) -> String {
        let hex = id.hasPrefix("sha256:") ? id.dropFirst(7) : Substring(id)
        return String(hex.prefix(12))
    }
}

/// The images of a recipe the engine has, listed once (listing filters every image the engine
/// holds, about 0.1 s with a hundred images here) and only when a layer's tag is missing.
public actor RecipeImages {
    private let recipe: String
    private let engine: DockerEngine
    private var images: [ImageSummary]?

    public init(recipe: String, engine: DockerEngine) {
        self.recipe = recipe
        self.engine = engine
    }

    /// An image carrying both labels, tagged or not.
    public func find(contentHash: String, baseImage: String) async throws -> String? {
        if images == nil { images = try await engine.listImages(labels: ["\(ImageLabels.recipe)=\(recipe)"]) }
        return images?.first { $0.labels?[ImageLabels.contentHash] == contentHash && $0.labels?[ImageLabels.baseImage] == baseImage }?.id
    }
}

/// The identity of each external base image: its pinned digest, or the ID the engine reports
/// for the tag (so a re-pulled tag counts as a new base).
public enum BaseImages {
    public enum Resolution: Sendable, Equatable {
        case resolved(identity: String)
        case missing(message: String)
    }

    public static func resolve(
        _ references: [ImageReference], engine: DockerEngine, pull: Bool, events: @Sendable (BuildEvent) -> Void
    ) async throws -> [ImageReference: Resolution] {
        var result: [ImageReference: Resolution] = [:]
        for reference in references where result[reference] == nil {
            var image = try await engine.inspectImage(reference.description)
            if image == nil, pull {
                do {
                    try await engine.pull(repository: reference.repository, tag: reference.digest ?? reference.tag ?? "latest")
                    image = try await engine.inspectImage(reference.description)
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
            let identity = reference.digest ?? image.id
            result[reference] = .resolved(identity: identity)
            events(.baseResolved(reference: reference.description, identity: identity))
        }
        return result
    }
}
