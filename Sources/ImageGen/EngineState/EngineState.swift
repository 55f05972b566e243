import DockerEngine

/// What the engine says about a plan before building: each external base's identity, and for
/// each layer whether it is already built for its content hash.
public struct EngineState: Sendable {
    public var bases: [String: BaseImages.Resolution]
    public var layers: [String: BuiltImages.Status]

    /// Checks `layers` (all of the plan's when nil).
    public static func check(_ plan: BuildPlan, layers selected: [LayerPlan]? = nil, engine: DockerEngine) async throws -> EngineState {
        let checked = selected ?? plan.layers
        let roots = Array(Set(checked.map(\.layer.rootImage))).sorted { $0.description < $1.description }
        let bases = try await BaseImages.resolve(roots, engine: engine, pull: false)
        var layers: [String: BuiltImages.Status] = [:]
        let index = RecipeImages(recipe: plan.name, engine: engine)
        for layer in checked {
            guard case .resolved(let identity)? = bases[layer.layer.rootImage] else { continue }
            layers[layer.name] = try await BuiltImages.status(of: layer, baseIdentity: identity, engine: engine, index: index)
        }
        return EngineState(bases: Dictionary(uniqueKeysWithValues: bases.map { ($0.key.description, $0.value) }), layers: layers)
    }

    public func describe(_ layer: String) -> String {
        switch layers[layer] {
        case .built?: "built"
        case .untagged?: "built (untagged; build re-tags it)"
        case .stale(let reason)?: "to build: \(reason)"
        case .missing?: "to build"
        case nil: "to build: base image missing"
        }
    }
}
