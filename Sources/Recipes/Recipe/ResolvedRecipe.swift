import ContainerBasics
import ImageGenValues
import BuildContext
/// A layer with its `from:` resolved and everything it inherits worked out.
public struct ResolvedLayer: Sendable, Hashable {
    public enum Parent: Sendable, Hashable {
        /// Another layer of the recipe, by name.
        case layer(String)
        /// An image from outside the recipe.
        case image(ImageReference)
    }

    public var spec: LayerSpec
    public var parent: Parent
    /// The external image at the root of this layer's chain.
    public var rootImage: ImageReference
    public var distro: Distro
    /// The user the image runs as (this layer's or inherited), nil for the base image's default.
    public var user: UserSpec?
    /// The user of the parent image, which a `USER root` switch must come back from.
    public var inheritedUser: UserSpec?
    /// The image's final `USER` (`1000:1000`, or a steps layer's `USER` as written); nil: the
    /// base image's.
    public var runAs: String? = nil
    /// The parent image's final `USER`.
    public var inheritedRunAs: String? = nil
    /// Layers of the recipe this one copies files from (`copy: {from: LAYER}`): built before it,
    /// and their content hashes are among its inputs.
    public var copiesFrom: [String] = []
    public var workdir: String?
    /// This layer's packages and its toolsets', sorted and without duplicates.
    public var packages: [PackageName]
    /// Python and Node.js packages (this layer's and its toolsets'), sorted, by ecosystem.
    public var languagePackages: [LanguageEcosystem: [LanguagePackage]] = [:]
    /// What each language's builder stage installs first (the interpreter and its package
    /// manager, when no ancestor layer has them).
    public var builderPackages: [LanguageEcosystem: [PackageName]] = [:]
    /// OS packages the layers below this one install (names without pins).
    public var inheritedPackages: Set<String> = []
    /// This layer's `run:` steps, then its toolsets' in the order listed.
    public var runSteps: [String]
    public var env: [KeyValue]
    public var probes: [ProbeSpec]
    /// Recipe args (name → value) that this layer's strings or its toolsets' referenced.
    public var args: [String: String]
    /// Files this layer sends in its build context (copy sources and the context directory).
    public var sources: [ContextEntry]
    /// The baked context (its manifest, repos and config targets), for the layer with `context:`.
    public var context: BakedContext?
    /// The platforms the layer is built for; empty: the engine's own (the recipe lists none).
    public var platforms: [Platform] = []
    /// Files of the context directory listed by its manifest (archive paths).
    public var manifestEntries: [String] { context?.listed ?? [] }

    public var name: String { spec.name }

    /// Where a language's packages are installed, in the builder stage and the image.
    public func languagePrefix(_ ecosystem: LanguageEcosystem) -> String { "/opt/imagegen/\(ecosystem.rawValue)/\(name)" }

    /// Whether the layer has a builder stage (and so the build-CA slot in its context).
    public var hasBuilderStages: Bool { languagePackages.values.contains { !$0.isEmpty } }
}

/// The recipe with every layer resolved, in build order: each layer after its parent, layers
/// that do not depend on each other in the order the recipe lists them.
public struct ResolvedRecipe: Sendable {
    public var recipe: Recipe
    public var layers: [ResolvedLayer]
    /// Every file any layer sends, including layers that could not be resolved, so that secret
    /// checks cover them all.
    public var checkedFiles: [ContextEntry]

    public var name: String { recipe.name }

    public func layer(named name: String) -> ResolvedLayer? { layers.first { $0.name == name } }

    /// The layer's `image:`, else `<recipe>-<layer>` (both names were checked to make a valid
    /// repository path).
    public func imageName(of layer: String) -> Repository {
        if let image = recipe.layer(named: layer)?.image, let repository = try? Repository(parsing: image.value) { return repository }
        return Repository(validatedPath: "\(recipe.name)-\(layer)")
    }

    /// The named layers (a layer's name, or the name all its variants share) with every layer
    /// they depend on (parents, and layers they copy from), in build order.
    public func selecting(_ names: [String]) -> [ResolvedLayer] {
        var wanted = Set<String>()
        var pending = layers.filter { layer in names.contains(layer.name) || names.contains(layer.spec.baseName) }.map(\.name)
        while let name = pending.popLast() {
            guard wanted.insert(name).inserted, let layer = layer(named: name) else { continue }
            if case .layer(let parent) = layer.parent { pending.append(parent) }
            pending += layer.copiesFrom
        }
        return layers.filter { wanted.contains($0.name) }
    }

    /// Layers built on `name`, directly or not.
    public func descendants(of name: String) -> [ResolvedLayer] {
        var found = Set([name])
        var result: [ResolvedLayer] = []
        for layer in layers {
            if case .layer(let parent) = layer.parent, found.contains(parent) {
                found.insert(layer.name)
                result.append(layer)
            }
        }
        return result
    }
}
