import ContainerBasics
import DockerEngine
import Planning
import Recipes
import BuildContext

/// An image that is a built layer plus labels and nothing else (`FROM` it, `LABEL …`): what a
/// release tags, so that the content-hash image (and the cache keyed on it) stays as it was.
/// Built here, with the engine's build like every other image.
public enum LabelStamp {
    public static func stamp(_ layer: LayerPlan, labels: [String: String], engine: DockerEngine) async throws -> ImageID {
        let pairs = labels.sorted { $0.key < $1.key }.map { Instruction.Pair($0.key, $0.value) }
        let dockerfile = Instruction.render([.from(layer.reference.description), .label(pairs, escapeDollar: true)])
        let context = ChunkSequence.tar([.inline("Dockerfile", Array(dockerfile.utf8))])
        var id: ImageID?
        var failure: String?
        var parameters = BuildParameters(tag: "")
        parameters.platform = layer.platform?.description
        for try await message in try await engine.build(context: context, parameters: parameters) {
            switch message {
            case .imageID(let imageID): id = try? ImageID(parsing: imageID)
            case .error(let text, _): failure = text
            default: break
            }
        }
        let request = "POST /build (release labels for \(layer.name))"
        if let failure { throw DockerEngineError.stream(request: request, message: failure) }
        guard let id else { throw DockerEngineError.unexpectedResponse(request: request, reason: "no image ID for the release image of \(layer.name)") }
        return id
    }
}
