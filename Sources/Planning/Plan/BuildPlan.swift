import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
/// One layer ready to build: its Dockerfile, its build context, its hash inputs and content hash.
public struct LayerPlan: Sendable {
    public var layer: ResolvedLayer
    /// The platform this plan builds for; nil: the engine's own (the recipe lists none).
    public var platform: Platform?
    /// `<recipe>-<layer>`.
    public var imageName: Repository
    public var contentHash: ContentHash
    /// The image this layer's Dockerfile starts `FROM`.
    public var from: String
    public var dockerfile: String
    /// The layer's hash inputs in canonical form (``JSONValue/canonicalBytes``): its content hash
    /// is their SHA-256.
    public var canonicalInputs: [UInt8]
    /// The labels the Dockerfile's `LABEL` lines write (the content hash, the base image and,
    /// with platforms, the base name come from build args and are not among them).
    public var labels: [String: String] = [:]
    /// The Dockerfile has what only BuildKit builds (`COPY --chmod`).
    public var needsBuildKit = false

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
    /// Layers that must be built before this one: its parent and those it copies from.
    public var dependencies: [String] { (parentLayer.map { [$0] } ?? []) + layer.copiesFrom }

    /// The tag that names this layer's image by content: the hash's first digits.
    public var tag: Tag { contentHash.tag }
    /// `<recipe>-<layer>:<tag>`.
    public var reference: ImageReference { ImageReference(imageName, tag: tag) }

    /// The `inputs.json` written under generated/ (one platform's part of it).
    public var inputsDocument: JSONValue { ["contentHash": .string(contentHash.hex), "inputs": inputs] }

    /// Every label a build of this layer gives its image on top of those it inherits from its
    /// parent: an image with other labels (a release image: version, created, revision) is not
    /// this layer's image, whatever its content hash. With platforms, the base name label comes
    /// from a build arg and is not checked (nil).
    public func builtLabels(baseIdentity: String) -> [String: String?] {
        var expected: [String: String?] = labels.mapValues { $0 }
        expected[ImageLabels.contentHash] = contentHash.hex
        expected[ImageLabels.baseImage] = baseIdentity
        if platform != nil { expected[ImageLabels.OCI.baseName] = .some(nil) }
        return expected
    }

    /// `base`, or `base@linux/arm64` for one platform of a multi-platform recipe: how progress,
    /// reports and errors name this plan.
    public var displayName: String { Platform.qualified(name, platform) }
}

/// Every layer of a recipe, planned, in build order.
public struct BuildPlan: Sendable {
    public var recipe: ResolvedRecipe
    /// Every layer, in build order; with platforms, one plan per layer and platform (a layer's
    /// platforms next to each other, in the recipe's order).
    public var layers: [LayerPlan]
    /// The platforms the recipe builds for, in its order; empty: the engine's own.
    public var platforms: [Platform] = []

    public init(recipe: ResolvedRecipe, layers: [LayerPlan], platforms: [Platform] = []) {
        self.recipe = recipe
        self.layers = layers
        self.platforms = platforms
    }

    public var name: String { recipe.name }
    public var isMultiPlatform: Bool { !platforms.isEmpty }

    /// The layer's plan (its first platform's, with platforms).
    public func layer(named name: String) -> LayerPlan? { layers.first { $0.name == name } }

    /// The layer's plan for `platform`.
    public func layer(named name: String, platform: Platform?) -> LayerPlan? { layers.first { $0.name == name && $0.platform == platform } }

    /// Layer names in build order, each once.
    public var layerNames: [String] {
        var seen = Set<String>()
        return layers.map(\.name).filter { seen.insert($0).inserted }
    }

    /// The plan of one platform: its layers only (all of them without platforms).
    public func forPlatform(_ platform: Platform?) -> BuildPlan {
        guard isMultiPlatform else { return self }
        return BuildPlan(recipe: recipe, layers: layers.filter { $0.platform == platform }, platforms: platform.map { [$0] } ?? [])
    }

    /// One plan per platform (just this one without platforms).
    public var perPlatform: [(platform: Platform?, plan: BuildPlan)] {
        isMultiPlatform ? platforms.map { ($0, forPlatform($0)) } : [(nil, self)]
    }

    /// The layer and its ancestors in the recipe, root first.
    public func lineage(of layer: LayerPlan) -> [LayerPlan] {
        var chain = [layer]
        while let last = chain.last, let parent = last.parentLayer.flatMap({ self.layer(named: $0, platform: last.platform) }) { chain.append(parent) }
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
