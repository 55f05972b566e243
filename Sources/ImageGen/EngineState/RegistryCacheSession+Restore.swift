import ContainerBasics
import DockerEngine
import ImageGenValues
import Planning
import RegistryCache

extension RegistryCacheSession {
    /// For `verify` and `release`, which need the images: pulls each of `layers` that the engine
    /// lacks and the cache holds, tagging it as the layer's image. The layers pulled, and where from.
    public func restore(_ layers: [LayerPlan], of plan: BuildPlan, engine: DockerEngine) async throws -> [(layer: String, from: ImageReference)] {
        let state = try await EngineState.check(plan, layers: layers, engine: engine, cache: self)
        var pulled: [(layer: String, from: ImageReference)] = []
        for layer in layers {
            guard case .hit(let reference)? = state.cached[layer.key],
                case .resolved(let identity)? = state.bases[layer.layer.rootImage.description]
            else { continue }
            if try await pull(reference, for: layer, baseIdentity: identity, engine: engine) != nil {
                pulled.append((layer.name, reference))
            }
        }
        return pulled
    }
}
