import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext

/// What resolving may use beyond the recipe: where pinned repositories are fetched to, and a
/// context directory given on the command line (`--context-dir`) in place of the recipe's.
public struct ResolveOptions: Sendable {
    /// Where fetched repositories and unpacked context packages are kept.
    public var cacheDirectory: String
    public var contextDirectory: String?
    /// Directories beyond the recipe's (and `contextDirectory`) whose git repositories a
    /// manifest's `repos:` may fetch (`--allow-local-repos`).
    public var localRepoRoots: [String] = []

    public init(cacheDirectory: String? = nil, contextDirectory: String? = nil, localRepoRoots: [String] = []) {
        self.cacheDirectory = cacheDirectory ?? CacheDirectory.path() ?? NSTemporaryDirectory() + "/imagegen-\(getuid())"
        self.contextDirectory = contextDirectory
        self.localRepoRoots = localRepoRoots
    }

    public var repos: RepoFetcher { RepoFetcher(cacheDirectory: cacheDirectory + "/repos") }
    public var packages: String { cacheDirectory + "/context-packages" }
}

/// Resolves names and checks what a recipe refers to: `from:` targets, the layer graph, toolsets,
/// package names, inherited users, and the files copied or baked in (paths, symlinks, manifest).
public enum RecipeResolver {
    /// Resolves as much as it can: the result holds every layer that could be resolved, and the
    /// diagnostics every problem found (so one run reports them all). Use the result only when
    /// the diagnostics hold no error.
    public static func resolve(_ recipe: Recipe, options: ResolveOptions = ResolveOptions()) -> (ResolvedRecipe, Diagnostics) {
        var diagnostics = Diagnostics()
        let names = recipe.layers.map(\.name)
        let byName = Dictionary(recipe.layers.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })

        // 1. Parents.
        var parents: [String: ResolvedLayer.Parent] = [:]
        for layer in recipe.layers {
            guard let from = layer.from else { continue }
            // An undefined `${ARG}` is already reported; the half-substituted name would only add noise.
            if from.value.contains("${") { continue }
            if byName[from.value] != nil {
                if from.value == layer.name {
                    diagnostics.error("layer '\(layer.name)' is built from itself", at: from.location)
                    continue
                }
                parents[layer.name] = .layer(from.value)
                continue
            }
            do {
                let reference = try ImageReference(parsing: from.value)
                if !reference.isPinned {
                    let what = reference.tag == "latest" ? "uses the moving tag 'latest'" : "has no tag"
                    let near = suggestion(for: from.value, among: names).map { "; did you mean the layer '\($0)'?" }
                    diagnostics.error("from: '\(from.value)' names no layer and \(what); pin the base image with a version tag or @sha256 digest\(near ?? "")", at: from.location)
                    continue
                }
                parents[layer.name] = .image(reference)
            } catch {
                let near = suggestion(for: from.value, among: names).map { "; did you mean the layer '\($0)'?" } ?? ""
                diagnostics.error("from: '\(from.value)' names no layer and is not a valid image reference (\(error))\(near)", at: from.location)
            }
        }

        // 1b. Layers a layer copies files from (`copy: {from: LAYER}`), built before it.
        var copiesFrom: [String: [String]] = [:]
        for layer in recipe.layers {
            for copy in layer.allCopies {
                guard let from = copy.from, !from.value.contains("${") else { continue }
                if byName[from.value] != nil {
                    if from.value == layer.name {
                        diagnostics.error("layer '\(layer.name)' copies from itself", at: from.location)
                    } else if !recipe.platforms.isEmpty || layer.platforms != nil {
                        diagnostics.error(
                            "copy.from: copying from a layer ('\(from.value)') is not available in a recipe with platforms: yet; copy from an image, or build the files in this layer",
                            at: from.location)
                    } else if !(copiesFrom[layer.name] ?? []).contains(from.value) {
                        copiesFrom[layer.name, default: []].append(from.value)
                    }
                    continue
                }
                do {
                    let reference = try ImageReference(parsing: from.value)
                    if !reference.isPinned {
                        diagnostics.error(
                            "copy.from: '\(from.value)' names no layer and no pinned image; pin it with a version tag or @sha256 digest\(suggestion(for: from.value, among: names).map { "; did you mean the layer '\($0)'?" } ?? "")",
                            at: from.location)
                    }
                } catch {
                    diagnostics.error(
                        "copy.from: '\(from.value)' names no layer and is not a valid image reference (\(error))\(didYouMean(from.value, among: names))", at: from.location)
                }
            }
        }

        // 2. Cycles: each layer has one parent, so a cycle is a parent chain that comes back.
        var inCycle = Set<String>()
        for layer in recipe.layers where !inCycle.contains(layer.name) {
            var chain: [String] = [layer.name]
            var current = layer.name
            while case .layer(let parent)? = parents[current] {
                if let start = chain.firstIndex(of: parent) {
                    let cycle = Array(chain[start...])
                    if !cycle.contains(where: inCycle.contains) {
                        let text = (cycle + [parent]).joined(separator: " → ")
                        for name in cycle {
                            if let from = byName[name]?.from { diagnostics.error("dependency cycle: \(text)", at: from.location) }
                        }
                    }
                    inCycle.formUnion(cycle)
                    break
                }
                chain.append(parent)
                current = parent
            }
        }

        // 2b. Cycles that go through a copy: a layer copying from its own descendant.
        for layer in recipe.layers where !inCycle.contains(layer.name) {
            var path: [String] = []
            func visit(_ name: String) -> [String]? {
                if let start = path.firstIndex(of: name) { return Array(path[start...]) + [name] }
                guard !inCycle.contains(name) || name == layer.name, path.count < recipe.layers.count + 1 else { return nil }
                path.append(name)
                defer { path.removeLast() }
                var next = copiesFrom[name] ?? []
                if case .layer(let parent)? = parents[name] { next.append(parent) }
                for target in next { if let cycle = visit(target) { return cycle } }
                return nil
            }
            guard let cycle = visit(layer.name), cycle.first == layer.name else { continue }
            let text = cycle.joined(separator: " → ")
            for (index, name) in cycle.dropLast().enumerated() where copiesFrom[name]?.contains(cycle[index + 1]) == true {
                if let from = byName[name]?.allCopies.compactMap(\.from).first(where: { $0.value == cycle[index + 1] }) {
                    diagnostics.error("dependency cycle through copy from: \(text)", at: from.location)
                }
            }
            inCycle.formUnion(cycle)
        }

        // 3. Toolsets named by layers exist; unused ones are worth a warning.
        var usedToolsets = Set<String>()
        for layer in recipe.layers {
            for toolset in layer.toolsets {
                if recipe.toolset(named: toolset.value) == nil {
                    diagnostics.error("unknown toolset '\(toolset.value)'\(didYouMean(toolset.value, among: recipe.toolsets.map(\.name)))", at: toolset.location)
                }
                usedToolsets.insert(toolset.value)
            }
        }
        for toolset in recipe.toolsets where !usedToolsets.contains(toolset.name) {
            diagnostics.warning("toolset '\(toolset.name)' is not used by any layer", at: toolset.location)
        }

        // 4. Resolve in build order: parents first, recipe order among independent layers.
        var resolved: [String: ResolvedLayer] = [:]
        var ordered: [ResolvedLayer] = []
        var remaining = recipe.layers.filter { parents[$0.name] != nil && !inCycle.contains($0.name) }
        var progressed = true
        while progressed, !remaining.isEmpty {
            progressed = false
            for layer in remaining {
                guard let parent = parents[layer.name] else { continue }
                var parentLayer: ResolvedLayer?
                if case .layer(let name) = parent {
                    guard let found = resolved[name] else { continue }
                    parentLayer = found
                }
                guard (copiesFrom[layer.name] ?? []).allSatisfy({ resolved[$0] != nil }) else { continue }
                var layerResult = resolveLayer(layer, parent: parent, parentLayer: parentLayer, recipe: recipe, options: options, diagnostics: &diagnostics)
                layerResult.copiesFrom = copiesFrom[layer.name] ?? []
                resolved[layer.name] = layerResult
                ordered.append(layerResult)
                remaining.removeAll { $0.name == layer.name }
                progressed = true
            }
        }
        // Layers whose parent could not be resolved (a bad `from:`, a cycle, a broken ancestor)
        // still get their own checks, so one run reports every problem.
        var checkedFiles = ordered.flatMap(\.sources)
        for layer in recipe.layers where resolved[layer.name] == nil {
            checkedFiles += resolveLayer(layer, parent: nil, parentLayer: nil, recipe: recipe, options: options, diagnostics: &diagnostics).sources
        }

        for layer in ordered where layer.runAs == nil && layer.spec.policy.allowRoot == nil {
            let isLeaf = !ordered.contains { if case .layer(layer.name) = $0.parent { true } else { false } }
            if isLeaf {
                diagnostics.warning(
                    "layer '\(layer.name)' runs as the base image's user (usually root); give it or an ancestor a 'user:', or say why with policy: {allow-root: \"…\"}",
                    at: layer.spec.location)
            }
        }
        checkReleaseNames(recipe, layers: ordered, diagnostics: &diagnostics)
        return (ResolvedRecipe(recipe: recipe, layers: ordered, checkedFiles: checkedFiles), diagnostics)
    }

    // MARK: - One layer

    /// `parent` nil checks the layer on its own, for a layer whose parent could not be resolved.
    private static func resolveLayer(
        _ spec: LayerSpec, parent: ResolvedLayer.Parent?, parentLayer: ResolvedLayer?, recipe: Recipe, options: ResolveOptions,
        diagnostics: inout Diagnostics
    ) -> ResolvedLayer {
        let rootImage: ImageReference
        var distro: Distro
        switch parent {
        case nil:
            rootImage = ImageReference(path: "unresolved")
            distro = spec.distro?.value ?? .debian
        case .image(let reference)?:
            rootImage = reference
            if let explicit = spec.distro {
                distro = explicit.value
            } else if let inferred = Distro.inferred(from: reference) {
                distro = inferred
            } else {
                distro = .debian
                // Only what imagegen writes for the distro needs it: a steps layer of RUNs does not.
                if spec.needsDistro {
                    diagnostics.error(
                        "cannot tell which distro '\(reference)' is; add 'distro: debian', 'alpine' or 'busybox' to layer '\(spec.name)'", at: spec.from?.location ?? spec.location)
                }
            }
        case .layer?:
            rootImage = parentLayer?.rootImage ?? ImageReference(path: "scratch")
            distro = parentLayer?.distro ?? .debian
            if let explicit = spec.distro, explicit.value != distro {
                diagnostics.error(
                    "distro '\(explicit.value.rawValue)' differs from '\(distro.rawValue)' inherited from layer '\(parentLayer?.name ?? "?")'; remove it", at: explicit.location)
            }
        }

        var toolsets: [ToolsetSpec] = []
        for name in spec.toolsets {
            if let toolset = recipe.toolset(named: name.value), !toolsets.contains(where: { $0.name == toolset.name }) {
                toolsets.append(toolset)
            }
        }

        // Packages: layer's and toolsets', each checked once, then sorted (reviewable, stable).
        var packages = Set<PackageName>()
        for package in spec.packages + toolsets.flatMap(\.packages) + spec.stepPackages {
            do {
                let name = try PackageName(parsing: package.value)
                if let problem = name.problem(for: distro) {
                    diagnostics.error(problem, at: package.location)
                } else {
                    packages.insert(name)
                }
            } catch {
                diagnostics.error("\(error)", at: package.location)
            }
        }
        if !packages.isEmpty, distro.packageManager == .none {
            let location = (spec.packages.first ?? toolsets.flatMap(\.packages).first ?? spec.stepPackages.first)?.location ?? spec.location
            diagnostics.error("layer '\(spec.name)' installs packages but its distro (\(distro.rawValue)) has no package manager", at: location)
        }

        // Python and Node.js packages: pinned, and the interpreter they run on present.
        var inheritedPackages = parentLayer?.inheritedPackages ?? []
        if let parentLayer { inheritedPackages.formUnion(parentLayer.packages.map(\.baseName)) }
        let ownPackages = Set(packages.map(\.baseName))
        var languagePackages: [LanguageEcosystem: [LanguagePackage]] = [:]
        var builderPackages: [LanguageEcosystem: [PackageName]] = [:]
        for ecosystem in LanguageEcosystem.allCases {
            let written = ecosystem == .pip ? spec.pip + toolsets.flatMap(\.pip) : spec.npm + toolsets.flatMap(\.npm)
            guard let first = written.first else { continue }
            var parsed = Set<LanguagePackage>()
            for item in written {
                do {
                    parsed.insert(try LanguagePackage(parsing: item.value, ecosystem: ecosystem))
                } catch {
                    diagnostics.error("\(error)", at: item.location)
                }
            }
            languagePackages[ecosystem] = parsed.sorted()
            let needs = LanguageRuntime.requirements(ecosystem, distro: distro, rootImage: rootImage)
            guard let needs else {
                diagnostics.error("\(ecosystem.rawValue): packages cannot be installed on \(distro.rawValue) (no package manager for the interpreter)", at: first.location)
                continue
            }
            if let runtime = needs.runtime, !inheritedPackages.contains(runtime), !ownPackages.contains(runtime) {
                diagnostics.error(
                    "\(ecosystem.rawValue): the installed packages run on \(runtime), which neither layer '\(spec.name)' nor a layer below installs; add '\(runtime)' to packages",
                    at: first.location)
            }
            builderPackages[ecosystem] = needs.builder.filter { !inheritedPackages.contains($0) }.compactMap { try? PackageName(parsing: $0) }
        }

        let inheritedUser = parentLayer?.user
        var user = spec.user ?? inheritedUser
        var runAs = spec.user.map { "\($0.uid):\($0.gid)" } ?? parentLayer?.runAs
        if let steps = spec.steps {
            (user, runAs) = followUser(through: steps, inherited: (inheritedUser, parentLayer?.runAs), layer: spec.name, diagnostics: &diagnostics)
        }
        for account in spec.declaredAccounts where account.create {
            if case .image(let reference)? = parent, let problem = KnownAccounts.collision(account, on: reference, distro: distro) {
                diagnostics.error(problem, at: account.location)
            } else if case .layer? = parent, let problem = KnownAccounts.collision(account, on: rootImage, distro: distro) {
                diagnostics.error(problem, at: account.location)
            }
        }
        let workdir = spec.workdir?.value ?? parentLayer?.workdir

        var args: [String: String] = [:]
        let values = Dictionary(recipe.args.map { ($0.key, $0.value) }, uniquingKeysWith: { _, last in last })
        for name in spec.usedArgs.union(toolsets.flatMap(\.usedArgs)) { args[name] = values[name] }

        let (sources, context) = collectSources(spec, user: user, recipe: recipe, options: options, diagnostics: &diagnostics)

        // Platforms: the parent's (the recipe's for a layer on an image), narrowed, never widened.
        let inherited: [Platform]
        if case .layer? = parent { inherited = parentLayer?.platforms ?? [] } else { inherited = recipe.platforms.map(\.value) }
        var platforms = inherited
        if let own = spec.platforms {
            if case .layer? = parent, inherited.isEmpty {
                diagnostics.error(
                    "layer '\(spec.name)' lists platforms, but layer '\(parentLayer?.name ?? "?")' it is built on is built for the engine's own platform only; list the platforms at the top of the recipe (platforms:) and narrow them here",
                    at: own.first?.location ?? spec.location)
            } else if !inherited.isEmpty {
                for platform in own where !inherited.contains(platform.value) {
                    let above = parent.map { if case .layer(let name) = $0 { "layer '\(name)'" } else { "the recipe" } } ?? "the recipe"
                    diagnostics.error(
                        "layer '\(spec.name)': \(platform.value) is not among the platforms of \(above) (\(inherited.map(\.description).joined(separator: ", "))); a layer may narrow the list, never widen it",
                        at: platform.location)
                }
            }
            platforms = own.map(\.value).filter { inherited.isEmpty || inherited.contains($0) }
        }

        var resolved = ResolvedLayer(
            spec: spec, parent: parent ?? .image(rootImage), rootImage: rootImage, distro: distro, user: user, inheritedUser: inheritedUser,
            workdir: workdir, packages: packages.sorted(), runSteps: spec.run.map(\.value) + toolsets.flatMap { $0.run.map(\.value) },
            env: spec.env + toolsets.flatMap(\.env), probes: spec.probes + toolsets.flatMap(\.probes), args: args,
            sources: sources, context: context)
        resolved.languagePackages = languagePackages
        resolved.builderPackages = builderPackages
        resolved.runAs = runAs
        resolved.inheritedRunAs = parentLayer?.runAs
        resolved.inheritedPackages = inheritedPackages
        resolved.platforms = platforms
        return resolved
    }

    // MARK: - Files

    /// Walks copy sources and the context directory into archive entries (`files/…`, `context/…`).
    private static func collectSources(
        _ spec: LayerSpec, user: UserSpec?, recipe: Recipe, options: ResolveOptions, diagnostics: inout Diagnostics
    ) -> ([ContextEntry], BakedContext?) {
        var entries: [ContextEntry] = []
        for copy in spec.allCopies {
            if copy.ownedByUser, user == nil, spec.steps == nil {
                diagnostics.error("copy.owner is 'user' but layer '\(spec.name)' has no user", at: copy.source.location)
            }
            guard copy.from == nil else { continue }
            for source in copy.sources {
                if let problem = Names.relativePathProblem(source.value, what: "copy.src") {
                    diagnostics.error(problem, at: source.location)
                    continue
                }
                let relative = DockerIgnore.clean(source.value)
                let walker = ContextWalker(root: join(recipe.directory, relative), displayRoot: join(recipe.directory, relative), archivePrefix: ContextLayout.copyPath(relative))
                let (found, problems) = walker.walk()
                for problem in problems {
                    if problem.path == walker.displayRoot {
                        diagnostics.error("copy.src '\(source.value)' \(problem.message)", at: source.location)
                    } else {
                        diagnostics.error(problem.message, at: SourceLocation(file: problem.path, line: 0, column: 0))
                    }
                }
                // Sources copied twice (two steps) are one entry of the build context.
                entries.append(contentsOf: found.filter { entry in !entries.contains { $0.path == entry.path } })
            }
        }
        var baked: BakedContext?
        if let context = spec.context {
            if let directory = context.isPackage ? nil : options.contextDirectory {
                baked = bakeDirectory(directory, display: directory, context: context, user: user, recipe: recipe, options: options, diagnostics: &diagnostics)
            } else if let problem = Names.relativePathProblem(context.directory.value, what: context.isPackage ? "context.package" : "context.dir") {
                diagnostics.error(problem, at: context.directory.location)
            } else if context.isPackage {
                let path = join(recipe.directory, DockerIgnore.clean(context.directory.value))
                do {
                    let extracted = try ContextPackage.extract(path, into: options.packages)
                    baked = bakeDirectory(extracted, display: path + "!", context: context, user: user, recipe: recipe, options: options, diagnostics: &diagnostics)
                } catch {
                    diagnostics.error("context.package '\(context.directory.value)': \(error)", at: context.directory.location)
                }
            } else {
                let display = join(recipe.directory, DockerIgnore.clean(context.directory.value))
                baked = bakeDirectory(display, display: display, context: context, user: user, recipe: recipe, options: options, diagnostics: &diagnostics)
            }
            entries += baked?.entries ?? []
        }
        return (entries, baked)
    }

    private static func bakeDirectory(
        _ directory: String, display: String, context: ContextSpec, user: UserSpec?, recipe: Recipe, options: ResolveOptions, diagnostics: inout Diagnostics
    ) -> BakedContext {
        var request = ContextBaker.Request(
            directory: directory, display: display, location: context.directory.location, home: user?.home,
            repos: options.repos)
        request.manifest = context.manifest.value
        request.localRepoRoots = [recipe.directory] + [options.contextDirectory].compactMap { $0 } + options.localRepoRoots
        return ContextBaker.bake(request, diagnostics: &diagnostics)
    }

    package static func join(_ directory: String, _ relative: String) -> String {
        if directory.isEmpty || directory == "." { return relative }
        return directory.hasSuffix("/") ? directory + relative : directory + "/" + relative
    }
}
