import DockerEngine
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry

/// Is a layer already built? An image counts only if it carries the layer's content hash and
/// was built on the same base image (by ID or pinned digest) as the one the engine has now.
public enum BuiltImages {
    public enum Status: Sendable, Equatable {
        /// Tagged `<name>:<hash prefix>` and current.
        case built(imageID: ImageID, size: Int64?)
        /// An image with the right labels exists but lost its tag; tagging it again is enough.
        case untagged(imageID: ImageID)
        /// Tagged, but built on another base image, or carrying another hash.
        case stale(reason: String)
        case missing

        /// Built here (tagged or not): nothing to build or pull.
        public var isBuilt: Bool {
            switch self {
            case .built, .untagged: true
            case .stale, .missing: false
            }
        }
    }

    public static func status(of layer: LayerPlan, baseIdentity: String, engine: DockerEngine, index: RecipeImages? = nil) async throws -> Status {
        if let image = try await engine.inspectImage(layer.reference) {
            let labels = image.labels
            if labels[ImageLabels.contentHash] != layer.contentHash.hex {
                let carried = labels[ImageLabels.contentHash].flatMap { try? ContentHash(parsing: $0) }
                return .stale(reason: "\(layer.reference) carries content hash \(carried?.short ?? "none")")
            }
            if let built = labels[ImageLabels.baseImage], built != baseIdentity {
                return .stale(reason: "the base image changed (\(shortIdentity(built)) → \(shortIdentity(baseIdentity)))")
            }
            if let platform = layer.platform, image.architecture != platform.architecture {
                return .stale(reason: "\(layer.reference) is a \(image.platform) image, not \(platform)")
            }
            return .built(imageID: image.id, size: image.size)
        }
        let images = index ?? RecipeImages(recipe: recipeName(of: layer), engine: engine)
        if let id = try await images.find(layer, baseImage: baseIdentity) { return .untagged(imageID: id) }
        return .missing
    }

    static func recipeName(of layer: LayerPlan) -> String {
        String(layer.imageName.path.dropLast(layer.name.count + 1))
    }

    /// A base identity (a digest, or a list of them) as messages show it.
    static func shortIdentity(_ identity: String) -> String { BaseIdentity.short(identity) }
}
