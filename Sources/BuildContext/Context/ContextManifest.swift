import Yams
import ContainerBasics
import ImageGenValues

/// A context directory's `manifest.yaml`, in the FEAT-026 format:
///
/// ```yaml
/// version: "1.0"
/// name: "Project Context"
/// description: "Context for XYZ project"
/// docs:
///   - path: "docs/api-guide.md"
///     description: "API documentation"
/// prompts:
///   - path: "prompts/code-review.md"
///     name: "code-review"
/// configs:
///   - path: "configs/providers.yaml"
///     target: "~/.config/opencode/providers.yaml"
/// repos:
///   - url: "https://github.com/example/reference-impl"
///     path: "repos/reference-impl"
///     branch: "main"
/// ```
///
/// Plain path strings are entries too (`docs: [docs/guide.md, skills/]`; a path ending in `/`
/// covers a directory), as imagegen's earlier manifest wrote them.
public struct ContextManifest: Sendable, Hashable {
    public static let sections = ["docs", "prompts", "skills", "configs", "data", "templates"]
    static let keys = ["version", "name", "description"] + sections + ["repos"]
    static let entryKeys = ["path", "name", "description"]
    static let configKeys = ["path", "target", "name", "description"]
    static let repoKeys = ["url", "path", "branch", "tag", "commit", "description"]
    public static let supportedVersions = ["1", "1.0"]

    public struct Entry: Sendable, Hashable {
        public var section: String
        /// Relative to the context directory, as written.
        public var path: Located<String>
        public var name: Located<String>?
        public var description: Located<String>?
        /// `configs` only: where the file goes in the image (`~` is the user's home).
        public var target: Located<String>?
    }

    public enum Ref: Sendable, Hashable, CustomStringConvertible {
        case branch(String), tag(String), commit(String)

        public var description: String {
            switch self {
            case .branch(let name): "branch \(name)"
            case .tag(let name): "tag \(name)"
            case .commit(let hash): "commit \(hash.prefix(shortHashLength))"
            }
        }
    }

    public struct Repo: Sendable, Hashable {
        public var url: Located<String>
        /// Where its tree goes, relative to the context directory.
        public var path: Located<String>
        public var ref: Ref
        public var location: SourceLocation
    }

    public var version: Located<String>?
    public var name: Located<String>?
    public var description: Located<String>?
    public var entries: [Entry] = []
    public var repos: [Repo] = []
    public var file: String

    /// Parses a manifest, reporting every mistake (at its line and column) into `diagnostics`.
    static func parse(_ text: String, file: String, diagnostics: inout Diagnostics) -> ContextManifest? {
        let reader = YAMLReader(file: file)
        defer { diagnostics.append(contentsOf: reader.diagnostics) }
        let (composed, findings) = YAMLComposer.compose(text, file: file)
        for finding in findings { reader.diagnostics.append(finding) }
        guard let root = composed else {
            guard findings.isEmpty else { return nil }
            reader.diagnostics.warning("manifest is empty", at: SourceLocation(file: file, line: 1, column: 1))
            return ContextManifest(file: file)
        }
        var manifest = ContextManifest(file: file)
        for (key, _, value) in reader.mapping(root, what: "the manifest", allowed: keys) ?? [] {
            switch key {
            case "version":
                guard let version = reader.string(value, what: "version", interpolate: false) else { continue }
                if !supportedVersions.contains(version.value) {
                    reader.error("manifest version '\(version.value)' is not supported: this imagegen reads version \"1.0\"", value)
                }
                manifest.version = version
            case "name": manifest.name = reader.string(value, what: "name", interpolate: false)
            case "description": manifest.description = reader.string(value, what: "description", interpolate: false)
            case "repos": manifest.repos = readRepos(value, reader: reader)
            default: manifest.entries += readEntries(value, section: key, reader: reader)
            }
        }
        // A target is where one file goes: two entries cannot both go there.
        var targets: [String: SourceLocation] = [:]
        for entry in manifest.entries {
            guard let target = entry.target else { continue }
            let key = target.value.hasSuffix("/") ? String(target.value.dropLast()) : target.value
            if let first = targets[key] {
                reader.diagnostics.error("target '\(target.value)' is already the target of the entry at line \(first.line)", at: target.location)
            } else {
                targets[key] = target.location
            }
        }
        var paths: [String: SourceLocation] = [:]
        for repo in manifest.repos {
            let key = DockerIgnore.clean(repo.path.value)
            if let first = paths[key] {
                reader.diagnostics.error("repos: '\(repo.path.value)' is already the path of the repository at line \(first.line)", at: repo.path.location)
            } else {
                paths[key] = repo.path.location
            }
        }
        return manifest
    }

    private static func readEntries(_ node: Node, section: String, reader: YAMLReader) -> [Entry] {
        guard case .sequence(let items) = node else {
            if node.null != nil { return [] }
            reader.error("\(section) must be a list of paths or {path, …} entries, found \(YAMLReader.describe(node))", node)
            return []
        }
        var entries: [Entry] = []
        for item in items {
            var entry: Entry
            if case .mapping = item {
                let allowed = section == "configs" ? configKeys : entryKeys
                guard let pairs = reader.mapping(item, what: "an entry of \(section)", allowed: allowed) else { continue }
                guard let pathNode = pairs.first(where: { $0.key == "path" })?.value,
                    let path = reader.string(pathNode, what: "\(section).path", interpolate: false)
                else {
                    if !pairs.contains(where: { $0.key == "path" }) { reader.error("an entry of \(section) needs 'path'", item) }
                    continue
                }
                entry = Entry(section: section, path: path)
                for (key, _, value) in pairs where key != "path" {
                    let text = reader.string(value, what: "\(section).\(key)", interpolate: false)
                    switch key {
                    case "name": entry.name = text
                    case "description": entry.description = text
                    default: entry.target = text
                    }
                }
            } else {
                guard let path = reader.string(item, what: "each entry of \(section)", interpolate: false) else { continue }
                entry = Entry(section: section, path: path)
            }
            if let problem = Names.relativePathProblem(entry.path.value, what: "\(section) path") {
                reader.diagnostics.error(problem, at: entry.path.location)
                continue
            }
            if let target = entry.target, let problem = targetProblem(target.value) {
                reader.diagnostics.error(problem, at: target.location)
                entry.target = nil
            }
            entries.append(entry)
        }
        return entries
    }

    /// Absolute, or under the user's home (`~/…`); no `..`; characters a Dockerfile takes unquoted.
    static func targetProblem(_ target: String) -> String? {
        if target == "~" || target == "~/" { return "target '\(target)' is the home directory itself; name a file or directory under it (~/.config/…)" }
        guard target.hasPrefix("/") || target.hasPrefix("~/") else {
            return "target '\(target)' must be absolute (/etc/…) or under the user's home (~/.config/…)"
        }
        if target.split(separator: "/").contains("..") { return "target '\(target)' must not climb out with '..'" }
        let path = target.hasPrefix("~/") ? "/" + target.dropFirst(2) : target
        return Names.imagePathProblem(String(path), what: "target").map { _ in
            "target '\(target)' may hold only letters, digits and / . _ - + @"
        }
    }

    private static func readRepos(_ node: Node, reader: YAMLReader) -> [Repo] {
        guard case .sequence(let items) = node else {
            if node.null != nil { return [] }
            reader.error("repos must be a list of {url, path, branch|tag|commit}, found \(YAMLReader.describe(node))", node)
            return []
        }
        var repos: [Repo] = []
        for item in items {
            guard let pairs = reader.mapping(item, what: "a repo", allowed: repoKeys) else { continue }
            func value(_ key: String) -> Located<String>? {
                pairs.first { $0.key == key }.flatMap { reader.string($0.value, what: "repos.\(key)", interpolate: false) }
            }
            let url = value("url"), path = value("path")
            if url == nil, !pairs.contains(where: { $0.key == "url" }) { reader.error("a repo needs 'url' (where git fetches it)", item) }
            if path == nil, !pairs.contains(where: { $0.key == "path" }) { reader.error("a repo needs 'path' (where it goes, e.g. repos/name)", item) }
            let pins = ["branch", "tag", "commit"].compactMap { key in value(key).map { (key, $0) } }
            guard pins.count == 1 else {
                reader.error(
                    pins.isEmpty
                        ? "a repo needs one of 'branch', 'tag' or 'commit': it is baked at a pinned commit"
                        : "a repo takes one of 'branch', 'tag' or 'commit', not \(pins.map(\.0).joined(separator: " and "))", item)
                continue
            }
            guard let url, let path else { continue }
            if let problem = Names.relativePathProblem(path.value, what: "repos path") {
                reader.diagnostics.error(problem, at: path.location)
                continue
            }
            let (kind, pin) = pins[0]
            let ref: Ref
            switch kind {
            case "branch": ref = .branch(pin.value)
            case "tag": ref = .tag(pin.value)
            default:
                guard pin.value.count == 40, pin.value.allSatisfy(\.isHexDigit) else {
                    reader.diagnostics.error("repos commit '\(pin.value)' must be a full 40-character commit hash", at: pin.location)
                    continue
                }
                ref = .commit(pin.value.lowercased())
            }
            if case .commit = ref {
            } else if !RepoFetcher.isSafeRef(pin.value) {
                reader.diagnostics.error("repos \(kind) '\(pin.value)' is not a valid git ref name", at: pin.location)
                continue
            }
            repos.append(Repo(url: url, path: path, ref: ref, location: reader.location(item)))
        }
        return repos
    }
}
