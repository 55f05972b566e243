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
    /// By ``LayerPlan/displayName``.
    public var layers: [String: BuiltImages.Status]
    /// What the cache registry holds for layers not built here (with a cache only).
    public var cached: [String: RegistryCacheSession.Lookup] = [:]

    /// Checks `layers` (all of the plan's when nil).
    public static func check(_ plan: BuildPlan, layers selected: [LayerPlan]? = nil, engine: DockerEngine, cache: RegistryCacheSession? = nil) async throws -> EngineState {
        let checked = selected ?? plan.layers
        let roots = Array(Set(checked.filter { $0.platform == nil }.map(\.layer.rootImage))).sorted { $0.description < $1.description }
        var bases = Dictionary(uniqueKeysWithValues: try await BaseImages.resolve(roots, engine: engine, pull: false).map { ($0.key.description, $0.value) })
        for layer in checked {
            guard let platform = layer.platform else { continue }
            let key = PlatformBases.key(layer.layer.rootImage, platform)
            guard bases[key] == nil else { continue }
            switch try await PlatformBases.resolve(layer.layer.rootImage, platform: platform, engine: engine, pull: false) {
            case .resolved(let base): bases[key] = .resolved(identity: base.identity)
            case .missing(let message): bases[key] = .missing(message: message)
            }
        }
        var layers: [String: BuiltImages.Status] = [:]
        var cached: [String: RegistryCacheSession.Lookup] = [:]
        let index = RecipeImages(recipe: plan.name, engine: engine)
        for layer in checked {
            guard case .resolved(let identity)? = bases[PlatformBases.key(layer.layer.rootImage, layer.platform)] else { continue }
            let status = try await BuiltImages.status(of: layer, baseIdentity: identity, engine: engine, index: index)
            layers[layer.displayName] = status
            if let cache, !status.isBuilt { cached[layer.displayName] = await cache.lookup(layer, baseIdentity: identity) }
        }
        return EngineState(bases: bases, layers: layers, cached: cached)
    }

    public func describe(_ layer: String) -> String {
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
