import DockerEngine

/// Is a layer already built? An image counts only if it carries the layer's content hash and
/// was built on the same base image (by ID or pinned digest) as the one the engine has now.
public enum BuiltImages {
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
