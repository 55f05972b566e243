import Yams

/// The manifest of a context directory (`manifest.yaml`): what it holds, by kind.
///
/// ```yaml
/// docs: [docs/guide.md]
/// prompts: [prompts/system.md]
/// skills: [skills/]          # a directory covers everything under it
/// configs: []
/// data: []
/// templates: []
/// ```
/// Every entry must name a file or directory that is in the context (after `.dockerignore`).
public enum ContextManifest {
    public static let sections = ["docs", "prompts", "skills", "configs", "data", "templates"]
    static let keys = ["description"] + sections

    /// Checks the manifest against the walked entries; returns the archive paths it lists.
    static func check(_ context: ContextSpec, entries: [ContextEntry], displayRoot: String, diagnostics: inout Diagnostics) -> [String] {
        if let problem = Names.relativePathProblem(context.manifest.value, what: "context.manifest") {
            diagnostics.error(problem, at: context.manifest.location)
            return []
        }
        let manifestPath = ContextLayout.contextDirectory + "/" + DockerIgnore.clean(context.manifest.value)
        let display = displayRoot + "/" + DockerIgnore.clean(context.manifest.value)
        guard let manifestEntry = entries.first(where: { $0.path == manifestPath }), manifestEntry.kind == .file,
              let source = manifestEntry.sourcePath
        else {
            diagnostics.error("context '\(context.directory.value)' has no \(context.manifest.value) listing its files (or .dockerignore excludes it)", at: context.directory.location)
            return []
        }
        let text: String
        do {
            text = try readSmallFile(source)
        } catch {
            diagnostics.error("cannot read the manifest: \(error)", at: SourceLocation(file: display, line: 0, column: 0))
            return []
        }
        let reader = YAMLReader(file: display)
        let root: Node
        do {
            guard let node = try Yams.compose(yaml: text) else {
                diagnostics.warning("manifest is empty", at: SourceLocation(file: display, line: 1, column: 1))
                return []
            }
            root = node
        } catch {
            diagnostics.append(YAMLSyntaxError.diagnostic(for: error, in: text, file: display))
            return []
        }
        // Manifest entries first, then one pass over the (thousands of) context entries to see
        // which exist, comparing lengths before hashing.
        var items: [(item: Located<String>, path: String)] = []
        for (key, _, value) in reader.mapping(root, what: "the manifest", allowed: keys) ?? [] where key != "description" {
            for item in reader.stringList(value, what: key) {
                if let problem = Names.relativePathProblem(item.value, what: "manifest entry") {
                    reader.diagnostics.error(problem, at: item.location)
                    continue
                }
                items.append((item, ContextLayout.contextDirectory + "/" + DockerIgnore.clean(item.value)))
            }
        }
        let wanted = Set(items.map(\.path))
        let wantedLengths = Set(wanted.map(\.utf8.count))
        var present: [String: ContextEntry.Kind] = [:]
        for entry in entries where wantedLengths.contains(entry.path.utf8.count) && wanted.contains(entry.path) {
            if present[entry.path] == nil { present[entry.path] = entry.kind }
        }
        var listed: [String] = []
        for (item, path) in items {
            guard let kind = present[path] else {
                reader.diagnostics.error("manifest lists '\(item.value)', which is not in the context directory (missing, or excluded by .dockerignore)", at: item.location)
                continue
            }
            if item.value.hasSuffix("/"), kind != .directory {
                reader.diagnostics.error("manifest entry '\(item.value)' ends with '/' but is not a directory", at: item.location)
                continue
            }
            listed.append(path)
        }
        diagnostics.append(contentsOf: reader.diagnostics)
        // Files nobody listed are probably forgotten in the manifest; worth a warning, not an error.
        let covered = Set(listed)
        let coveredLengths = Set(covered.map(\.utf8.count))
        func isListed(_ path: Substring) -> Bool {
            coveredLengths.contains(path.utf8.count) && covered.contains(String(path))
        }
        var directoryCovered: [Substring: Bool] = [:]
        func isCovered(directory: Substring) -> Bool {
            if let known = directoryCovered[directory] { return known }
            var result = isListed(directory)
            if !result, let parent = directory.parentPath { result = isCovered(directory: parent) }
            directoryCovered[directory] = result
            return result
        }
        // Files of one directory come together in a walk: remember the last directory's answer.
        var lastDirectory: Substring?
        var lastCovered = false
        for entry in entries where entry.kind == .file && entry.path != manifestPath {
            let path = Substring(entry.path)
            guard !isListed(path) else { continue }
            var inCoveredDirectory = false
            if let directory = path.parentPath {
                if directory != lastDirectory {
                    lastDirectory = directory
                    lastCovered = isCovered(directory: directory)
                }
                inCoveredDirectory = lastCovered
            }
            if !inCoveredDirectory {
                let relative = entry.path.dropFirst(ContextLayout.contextDirectory.count + 1)
                diagnostics.warning("'\(relative)' is in the context but not listed in \(context.manifest.value)", at: SourceLocation(file: displayRoot + "/" + relative, line: 0, column: 0))
            }
        }
        return listed
    }
}
