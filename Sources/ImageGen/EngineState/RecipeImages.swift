import DockerEngine

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
    public func find(contentHash: ContentHash, baseImage: String) async throws -> ImageID? {
        if images == nil { images = try await engine.listImages(labels: ["\(ImageLabels.recipe)=\(recipe)"]) }
        return images?.first { $0.labels?[ImageLabels.contentHash] == contentHash.hex && $0.labels?[ImageLabels.baseImage] == baseImage }?.id
    }
}
