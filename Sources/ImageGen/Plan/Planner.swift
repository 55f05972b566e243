/// Turns a resolved recipe into a ``BuildPlan``: hashes every source file (through the
/// ``DigestCache``), refuses secrets, renders each Dockerfile with its parent's content-hash tag,
/// and computes each layer's content hash, parents first.
public enum Planner {
    public static func plan(_ recipe: ResolvedRecipe, cache: DigestCache) -> (BuildPlan?, Diagnostics) {
        var diagnostics = Diagnostics()
        let allFiles = recipe.checkedFiles
        let digests: [FileKey: FileDigest]
        do {
            digests = try FileDigester.digest(allFiles, cache: cache)
        } catch {
            diagnostics.error("\(error)", at: SourceLocation(file: recipe.recipe.path, line: 0, column: 0))
            return (nil, diagnostics)
        }
        try? cache.save()

        // Secrets: by file name and by content; the value is never printed.
        var reported = Set<FileKey>()
        for entry in allFiles where entry.kind == .file {
            guard let source = entry.sourcePath, let key = entry.stamp?.key, reported.insert(key).inserted else { continue }
            var findings = digests[key]?.secrets ?? []
            if let byName = SecretScanner.nameFinding(for: String(source.lastPathComponent)) { findings.insert(byName, at: 0) }
            for finding in findings {
                diagnostics.error("secret refused: \(finding)", at: SourceLocation(file: source, line: finding.line, column: finding.column))
            }
        }
        if diagnostics.hasErrors { return (nil, diagnostics) }

        var planned: [String: LayerPlan] = [:]
        var layers: [LayerPlan] = []
        for layer in recipe.layers {
            let from: String
            var parentHash: String?
            switch layer.parent {
            case .image(let reference):
                from = reference.description
            case .layer(let name):
                guard let parent = planned[name] else { continue }
                from = parent.reference
                parentHash = parent.contentHash
            }
            let imageName = recipe.imageName(of: layer.name)
            let dockerfile = DockerfileRenderer.render(layer, recipe: recipe.recipe, from: from)
            let dockerfileBytes = Array(dockerfile.utf8)
            let files = layer.sources.normalizedForArchive()
            let inputs = LayerInputs.make(
                recipe: recipe.name, layer: layer, imageName: imageName, parentHash: parentHash,
                dockerfile: dockerfileBytes, files: files, digests: digests)
            let entries = files.inserting(.inline("Dockerfile", dockerfileBytes))
            let plan = LayerPlan(
                layer: layer, imageName: imageName, contentHash: LayerInputs.contentHash(of: inputs), from: from,
                dockerfile: dockerfile, entries: entries, inputs: inputs)
            planned[layer.name] = plan
            layers.append(plan)
        }
        return (BuildPlan(recipe: recipe, layers: layers), diagnostics)
    }

    /// Loads, resolves and plans a recipe file in one go, with every diagnostic of every stage.
    public static func plan(recipeAt path: String, overrides: [String: String] = [:], cache: DigestCache? = nil) -> (BuildPlan?, Diagnostics) {
        let (recipe, loadDiagnostics) = RecipeLoader.load(path: path, overrides: overrides)
        var diagnostics = loadDiagnostics
        guard let recipe else { return (nil, diagnostics) }
        let (resolved, resolveDiagnostics) = RecipeResolver.resolve(recipe)
        diagnostics.append(contentsOf: resolveDiagnostics)
        let (plan, planDiagnostics) = Self.plan(resolved, cache: cache ?? DigestCache(file: DigestCache.defaultFile(forRecipeAt: path)))
        diagnostics.append(contentsOf: planDiagnostics)
        return (diagnostics.hasErrors ? nil : plan, diagnostics)
    }
}
