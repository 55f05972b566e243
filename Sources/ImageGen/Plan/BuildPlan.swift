/// One layer ready to build: its Dockerfile, its build context, its hash inputs and content hash.
public struct LayerPlan: Sendable {
    public var layer: ResolvedLayer
    /// `<recipe>-<layer>`.
    public var imageName: Repository
    public var contentHash: ContentHash
    /// The image this layer's Dockerfile starts `FROM`.
    public var from: String
    public var dockerfile: String
    /// The layer's hash inputs in canonical form (``JSONValue/canonicalBytes``): its content hash
    /// is their SHA-256.
    public var canonicalInputs: [UInt8]

    /// The build context's entries in archive order, the Dockerfile among them. Worked out on
    /// each use: `plan` never needs them.
    public var entries: [ContextEntry] { entries(buildCA: nil) }

    /// The entries with the build CA (a PEM bundle for TLS-intercepting proxies) in the slot that
    /// builder stages read. The CA is not a hash input: another proxy rebuilds nothing.
    public func entries(buildCA: [UInt8]?) -> [ContextEntry] {
        var entries = layer.sources.normalizedForArchive().inserting(.inline("Dockerfile", Array(dockerfile.utf8)))
        if layer.hasBuilderStages {
            entries = entries.inserting(.directory("imagegen-build")).inserting(.inline(ContextLayout.buildCA, buildCA ?? []))
        }
        return entries
    }

    /// The hash inputs, parsed from their canonical bytes (which imagegen wrote itself, and which
    /// hash to ``contentHash``).
    public var inputs: JSONValue {
        do {
            return try JSONValue(parsing: canonicalInputs)
        } catch {
            preconditionFailure("the canonical inputs of layer '\(name)' do not parse: \(error)")
        }
    }

    public var name: String { layer.name }
    public var parentLayer: String? { if case .layer(let name) = layer.parent { name } else { nil } }

    /// The tag that names this layer's image by content: the hash's first digits.
    public var tag: Tag { contentHash.tag }
    /// `<recipe>-<layer>:<tag>`.
    public var reference: ImageReference { ImageReference(imageName, tag: tag) }

    /// The `inputs.json` written under generated/.
    public var inputsDocument: JSONValue { ["contentHash": .string(contentHash.hex), "inputs": inputs] }
}

/// Every layer of a recipe, planned, in build order.
public struct BuildPlan: Sendable {
    public var recipe: ResolvedRecipe
    public var layers: [LayerPlan]

    public var name: String { recipe.name }

    public func layer(named name: String) -> LayerPlan? { layers.first { $0.name == name } }

    /// The layer and its ancestors in the recipe, root first.
    public func lineage(of layer: LayerPlan) -> [LayerPlan] {
        var chain = [layer]
        while let parent = chain.last?.parentLayer.flatMap(self.layer(named:)) { chain.append(parent) }
        return chain.reversed()
    }

    /// The named layers and what they need, in build order (all layers when `names` is empty).
    public func selecting(_ names: [String]) -> [LayerPlan] {
        guard !names.isEmpty else { return layers }
        let wanted = Set(recipe.selecting(names).map(\.name))
        return layers.filter { wanted.contains($0.name) }
    }
}

extension Array where Element == ContextEntry {
    /// Bytes the files among these entries hold (what a build context uploads, headers aside).
    public var fileBytes: Int64 { reduce(0) { $0 + ($1.kind == .file ? $1.size : 0) } }
}
