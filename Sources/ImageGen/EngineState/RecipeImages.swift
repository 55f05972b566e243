import DockerEngine
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry

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

    /// An image, tagged or not, that a build of `layer` on `baseImage` would have made: it
    /// carries the layer's content hash and base, every label the layer's Dockerfile writes with
    /// the value it writes, and no label but those and its parent's. A release image (the same
    /// content plus version, created and revision labels) is not one.
    public func find(_ layer: LayerPlan, baseImage: String) async throws -> ImageID? {
        if images == nil { images = try await engine.listImages(labels: ["\(ImageLabels.recipe)=\(recipe)"]) }
        let candidates = (images ?? []).filter {
            $0.labels?[ImageLabels.contentHash] == layer.contentHash.hex && $0.labels?[ImageLabels.baseImage] == baseImage
        }
        guard !candidates.isEmpty else { return nil }
        let expected = layer.builtLabels(baseIdentity: baseImage)
        let inherited = try await engine.inspectImage(layer.from)?.labels ?? [:]
        return candidates.first { Self.labels($0.labels ?? [:], match: expected, inherited: inherited) }?.id
    }

    /// `labels` are exactly `expected` (a nil value: any) over `inherited`.
    static func labels(_ labels: [String: String], match expected: [String: String?], inherited: [String: String]) -> Bool {
        for (key, value) in expected {
            guard let actual = labels[key] else { return false }
            if let value, actual != value { return false }
        }
        return labels.allSatisfy { key, value in expected[key] != nil || inherited[key] == value }
    }
}
