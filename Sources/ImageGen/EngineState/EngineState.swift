import DockerEngine
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry

/// What the engine says about a plan before building: each external base's identity, and for
/// each layer whether it is already built for its content hash (and, with a cache registry,
/// whether the cache holds the layers the engine lacks).
public struct EngineState: Sendable {
    /// By ``PlatformBases/key(_:_:)``: the reference, or `reference@platform`.
    public var bases: [String: BaseImages.Resolution]
    public var layers: [LayerKey: BuiltImages.Status]
    /// What the cache registry holds for layers not built here (with a cache only).
    public var cached: [LayerKey: RegistryCacheSession.Lookup] = [:]

    /// Checks `layers` (all of the plan's when nil).
    public static func check(_ plan: BuildPlan, layers selected: [LayerPlan]? = nil, engine: DockerEngine, cache: RegistryCacheSession? = nil) async throws -> EngineState {
        let checked = selected ?? plan.layers
        let resolved = try await ResolvedBases.resolve(checked, engine: { _ in engine }, pull: false, pullPlatformBases: false)
        let bases = resolved.results.mapValues { result -> BaseImages.Resolution in
            switch result {
            case .success(let base): .resolved(identity: base.identity)
            case .failure(let missing): .missing(message: missing.message)
            }
        }
        var layers: [LayerKey: BuiltImages.Status] = [:]
        var cached: [LayerKey: RegistryCacheSession.Lookup] = [:]
        let index = RecipeImages(recipe: plan.name, engine: engine)
        for layer in checked {
            guard case .success(let base)? = resolved[layer.layer.rootImage, layer.platform] else { continue }
            let status = try await BuiltImages.status(of: layer, baseIdentity: base.identity, engine: engine, index: index)
            layers[layer.key] = status
            if let cache, !status.isBuilt { cached[layer.key] = await cache.lookup(layer, baseIdentity: base.identity) }
        }
        return EngineState(bases: bases, layers: layers, cached: cached)
    }

    public func describe(_ layer: LayerKey) -> String {
        switch cached[layer] {
        case .hit(let reference)?: return "in the cache: pull \(reference)"
        case .conflict(let reason)?: return "to build: the cache's tag is not used (\(reason))"
        case .miss?, nil: break
        }
        return switch layers[layer] {
        case .built?: "built"
        case .untagged?: "built (untagged; build re-tags it)"
        case .stale(let reason)?: "to build: \(reason)"
        case .missing?: "to build"
        case nil: "to build: base image missing"
        }
    }
}
