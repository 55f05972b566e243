import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
/// Turns a resolved recipe into a ``BuildPlan``: hashes every source file (through the
/// ``FileDigestCache``), refuses secrets, renders each Dockerfile with its parent's content-hash tag,
/// and computes each layer's content hash, parents first.
public enum Planner {
    /// Plans `recipe`. With a `memo`, a layer whose fingerprint (see ``LayerInputsCache``) is unchanged
    /// takes its inputs from there; the digest cache is consulted only if some layer changed.
    public static func plan(_ recipe: ResolvedRecipe, cache: FileDigestCache, memo: LayerInputsCache? = nil) -> (BuildPlan?, Diagnostics) {
        let startedAt = memo?.now() ?? cache.now()
        var diagnostics = Diagnostics()
        // Digests and secret checks cover every file of every layer at once, and only when a
        // layer is not in the memo (or files outside the planned layers are to be checked).
        var digests: [FileKey: FileDigest]?
        func digestsOnce() -> [FileKey: FileDigest]? {
            if let digests { return digests }
            digests = checkFiles(recipe.checkedFiles, cache: cache, recipePath: recipe.recipe.path, diagnostics: &diagnostics)
            return digests
        }
        let layerFileCount = recipe.layers.reduce(0) { $0 + $1.sources.count }
        if memo == nil || recipe.checkedFiles.count != layerFileCount {
            guard digestsOnce() != nil else { return (nil, diagnostics) }
        }

        // With platforms, each layer is planned once per platform it is built for: the platform
        // is a hash input, and the Dockerfile (one per layer, the same for every platform) takes
        // its FROM as a build arg, since the parent's tag differs by platform.
        var platforms: [Platform] = []
        for layer in recipe.layers { for platform in layer.platforms where !platforms.contains(platform) { platforms.append(platform) } }
        let order = recipe.recipe.platforms.map(\.value)
        platforms.sort { (order.firstIndex(of: $0) ?? Int.max, $0.description) < (order.firstIndex(of: $1) ?? Int.max, $1.description) }

        var planned: [String: LayerPlan] = [:]
        var layers: [LayerPlan] = []
        for layer in recipe.layers {
            let targets: [Platform?] = platforms.isEmpty ? [nil] : platforms.filter(layer.platforms.contains)
            var defaultFrom: String?
            for platform in targets {
                let key = Platform.qualified(layer.name, platform)
                let from: String
                var parentHash: ContentHash?
                switch layer.parent {
                case .image(let reference):
                    from = reference.description
                case .layer(let name):
                    guard let parent = planned[Platform.qualified(name, platform)] else { continue }
                    from = parent.reference.description
                    parentHash = parent.contentHash
                }
                defaultFrom = defaultFrom ?? from
                // Layers it copies from: their images by content hash, and their hashes among its inputs.
                var copyFrom: [String: String] = [:]
                var copied: [(layer: String, contentHash: ContentHash)] = []
                for name in layer.copiesFrom {
                    guard let source = planned[Platform.qualified(name, platform)] else { continue }
                    copyFrom[name] = source.reference.description
                    copied.append((name, source.contentHash))
                }
                let imageName = recipe.imageName(of: layer.name)
                let dockerfile = DockerfileRenderer.render(layer, recipe: recipe.recipe, from: from, fromArgument: platform == nil ? nil : defaultFrom, copyFrom: copyFrom)
                let dockerfileBytes = DockerfileRenderer.hashedBytes(dockerfile)
                let fingerprint = memo.map { _ in
                    Self.fingerprint(
                        recipe: recipe.name, layer: layer, imageName: imageName, parentHash: parentHash, dockerfile: dockerfileBytes, platform: platform,
                        copied: copied.map(\.contentHash))
                }
                let contentHash: ContentHash
                let canonical: [UInt8]
                if let memo, let fingerprint, let remembered = memo.lookup(layer: key, fingerprint: fingerprint) {
                    contentHash = remembered.contentHash
                    canonical = remembered.canonicalInputs
                } else {
                    guard let digests = digestsOnce() else { return (nil, diagnostics) }
                    canonical =
                        LayerInputs.make(
                            recipe: recipe.name, layer: layer, imageName: imageName, parentHash: parentHash,
                            dockerfile: dockerfileBytes, files: layer.sources.normalizedForArchive(), digests: digests, platform: platform, copied: copied
                        ).canonicalBytes
                    contentHash = ContentHash(ofCanonicalInputs: canonical)
                    if let memo, let fingerprint, Self.settled(layer.sources, before: startedAt) {
                        memo.record(layer: key, .init(fingerprint: fingerprint, contentHash: contentHash, canonicalInputs: canonical))
                    }
                }
                var plan = LayerPlan(
                    layer: layer, platform: platform, imageName: imageName, contentHash: contentHash, from: from,
                    dockerfile: dockerfile, canonicalInputs: canonical)
                plan.labels = DockerfileRenderer.writtenLabels(layer, recipe: recipe.recipe, from: from, multiPlatform: platform != nil)
                plan.needsBuildKit = DockerfileRenderer.instructions(layer, recipe: recipe.recipe, from: from, copyFrom: copyFrom).contains(where: \.needsBuildKit)
                planned[key] = plan
                layers.append(plan)
            }
        }
        try? memo?.save()
        return (BuildPlan(recipe: recipe, layers: layers, platforms: platforms), diagnostics)
    }

    /// Refuses secrets in `files` as planning does (by name and by content, never printing a
    /// value), for files checked outside a recipe (`imagegen context validate`).
    public static func refuseSecrets(in files: [ContextEntry], display: String, diagnostics: inout Diagnostics) {
        _ = checkFiles(files, cache: FileDigestCache(file: nil), recipePath: display, diagnostics: &diagnostics)
    }

    /// Digests every file (through the cache) and refuses secrets, by file name and by content;
    /// the value is never printed. Nil when a file cannot be read or holds a secret.
    private static func checkFiles(
        _ files: [ContextEntry], cache: FileDigestCache, recipePath: String, diagnostics: inout Diagnostics
    ) -> [FileKey: FileDigest]? {
        let digests: [FileKey: FileDigest]
        do {
            digests = try FileDigester.digest(files, cache: cache)
        } catch {
            diagnostics.error("\(error)", at: SourceLocation(file: recipePath, line: 0, column: 0))
            return nil
        }
        try? cache.save()

        var reported = Set<FileKey>()
        var found = false
        for entry in files where entry.kind == .file {
            guard let source = entry.sourcePath, let key = entry.stamp?.key, reported.insert(key).inserted else { continue }
            var findings = digests[key]?.secrets ?? []
            if let byName = SecretScanner.nameFinding(for: String(source.lastPathComponent)) { findings.insert(byName, at: 0) }
            for finding in findings {
                diagnostics.error("secret refused: \(finding)", at: SourceLocation(file: source, line: finding.line, column: finding.column))
                found = true
            }
        }
        return found ? nil : digests
    }

    /// Everything a layer's inputs are made from, with file stamps in place of file contents.
    static func fingerprint(
        recipe: String, layer: ResolvedLayer, imageName: Repository, parentHash: ContentHash?, dockerfile: [UInt8], platform: Platform? = nil, copied: [ContentHash] = []
    ) -> String {
        var fingerprint = Fingerprint()
        for hash in copied { fingerprint.add("copied:" + hash.hex) }
        fingerprint.add(LayerInputs.format)
        fingerprint.add(platform?.description ?? "")
        fingerprint.add(Int64(SecretScanner.rulesVersion))
        fingerprint.add(recipe)
        fingerprint.add(layer.name)
        fingerprint.add(imageName.description)
        switch layer.parent {
        case .layer(let name): fingerprint.add("layer:" + name)
        case .image(let reference): fingerprint.add("image:" + reference.description)
        }
        fingerprint.add(parentHash?.hex ?? "")
        fingerprint.add(dockerfile)
        let args = layer.args.sorted { utf8Precedes($0.key, $1.key) }
        fingerprint.add(Int64(args.count))
        for (name, value) in args {
            fingerprint.add(name)
            fingerprint.add(value)
        }
        fingerprint.add(Int64(layer.sources.count))
        for entry in layer.sources { fingerprint.add(entry) }
        return fingerprint.finalize()
    }

    /// Whether no file among `entries` was written within the racy window before `time` (see
    /// ``LayerInputsCache``).
    static func settled(_ entries: [ContextEntry], before time: Int64) -> Bool {
        entries.allSatisfy { $0.stamp?.settled(before: time) ?? true }
    }

    /// ``plan(recipeAt:overrides:cache:memo:options:)`` from async code: planning reads and hashes
    /// files on every core and runs git for pinned repositories, which blocks threads, so it runs
    /// off the cooperative pool (``BlockingWork``) while the caller's task waits.
    public static func planned(
        recipeAt path: String, overrides: [String: String] = [:], options: ResolveOptions = ResolveOptions()
    ) async -> (BuildPlan?, Diagnostics) {
        await BlockingWork.run { plan(recipeAt: path, overrides: overrides, options: options) }
    }

    /// Loads, resolves and plans a recipe file in one go, with every diagnostic of every stage.
    /// Without a `cache`, uses imagegen's cache directory for both the digest cache and the
    /// ``LayerInputsCache``; with one, the memo is used only if given.
    public static func plan(
        recipeAt path: String, overrides: [String: String] = [:], cache: FileDigestCache? = nil, memo: LayerInputsCache? = nil,
        options: ResolveOptions = ResolveOptions()
    ) -> (BuildPlan?, Diagnostics) {
        let (recipe, loadDiagnostics) = RecipeLoader.load(path: path, overrides: overrides)
        var diagnostics = loadDiagnostics
        guard let recipe else { return (nil, diagnostics) }
        if let directory = options.contextDirectory, !recipe.layers.contains(where: { $0.context != nil }) {
            diagnostics.error("--context-dir \(directory): no layer of the recipe has a context: to bake it in", at: SourceLocation(file: path, line: 0, column: 0))
        }
        let (resolved, resolveDiagnostics) = RecipeResolver.resolve(recipe, options: options)
        diagnostics.append(contentsOf: resolveDiagnostics)
        // A recipe with errors (a secret among them) leaves nothing in the layer memo, which
        // records each layer's hash inputs, arg values included.
        let memo = diagnostics.hasErrors ? nil : memo ?? (cache == nil ? LayerInputsCache(file: LayerInputsCache.defaultFile(forRecipeAt: path)) : nil)
        let cache = cache ?? FileDigestCache(file: FileDigestCache.defaultFile(forRecipeAt: path))
        let (plan, planDiagnostics) = Self.plan(resolved, cache: cache, memo: memo)
        diagnostics.append(contentsOf: planDiagnostics)
        return (diagnostics.hasErrors ? nil : plan, diagnostics)
    }
}
