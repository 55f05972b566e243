import ContainerBasics
import DockerEngine
import ImageGenValues
import Planning
import RegistryCache

extension RegistryCacheSession {
    /// For `verify` and `release`, which need the images: pulls each of `layers` (in the order
    /// given) that the engine lacks and the cache holds, tagging it as the layer's image; `state`
    /// when the caller checked them already. The layers pulled, and where from.
    public func restore(
        _ layers: [LayerPlan], of plan: BuildPlan, engine: DockerEngine, state known: EngineState? = nil
    ) async throws -> [(layer: LayerPlan, from: ImageReference)] {
        let state: EngineState
        if let known { state = known } else { state = try await EngineState.check(plan, layers: layers, engine: engine, cache: self) }
        var pulled: [(layer: LayerPlan, from: ImageReference)] = []
        for layer in layers {
            guard case .hit(let reference)? = state.cached[layer.key],
                case .resolved(let identity)? = state.bases[PlatformBases.key(layer.layer.rootImage, layer.platform)]
            else { continue }
            if try await pull(reference, for: layer, baseIdentity: identity, engine: engine) != nil {
                pulled.append((layer, reference))
            }
        }
        return pulled
    }
}
