import Foundation
import ContainerBasics
import ImageGenValues

/// A context directory as a layer bakes it: its files under `context/`, the repositories its
/// manifest pins, and the configs it installs at their targets (under `targets/`).
public struct BakedContext: Sendable, Hashable {
    /// Archive entries: `context/…` (the directory and fetched repos) and `targets/…`.
    public var entries: [ContextEntry] = []
    /// Archive paths (`context/…`) the manifest lists, repos included.
    public var listed: [String] = []
    public var targets: [ConfigTarget] = []
    public var repos: [BakedRepo] = []
    public var manifest: ContextManifest?
}

/// A config the manifest installs at a target in the image, owned by the layer's user.
public struct ConfigTarget: Sendable, Hashable {
    /// Relative to the context directory (`configs/providers.yaml`).
    public var source: String
    /// Absolute, `~` resolved (`/home/opencode/.config/opencode/providers.yaml`).
    public var target: String
    public var isDirectory: Bool
    /// Under the user's home: copied as one tree onto the home directory (so the directories it
    /// creates there are the user's too).
    public var underHome: Bool
}

/// A repository baked at a commit.
public struct BakedRepo: Sendable, Hashable {
    /// Relative to the context directory.
    public var path: String
    public var url: String
    /// How the manifest pinned it (`branch main`).
    public var ref: String
    public var commit: String
}

/// Assembles a ``BakedContext`` from a directory: walks it (with its `.dockerignore`), checks
/// the manifest against it, fetches the pinned repositories, and lays out the config targets.
/// Every mistake is a diagnostic at its place (the manifest's line and column).
public enum ContextBaker {
    /// In a context package: which commit each repository was baked at (not baked itself).
    public static let lockFile = ".imagegen-context.lock"

    public struct Request: Sendable {
        /// The directory on disk.
        public var directory: String
        /// How messages name it.
        public var display: String
        /// Its manifest's file name.
        public var manifest: String = "manifest.yaml"
        /// Where a problem with the directory itself is reported.
        public var location: SourceLocation
        /// The user's home, for `~` in targets; nil when the layer has no user.
        public var home: String?
        /// Whether a `~` target without a user is an error (a layer) or not (validating a bare directory).
        public var requireHome = true
        public var repos: RepoFetcher
        /// Directories a repository on this machine may be fetched from (see ``RepoSource``): the
        /// recipe's directory, and what the command line allows.
        public var localRepoRoots: [String] = []
        /// How messages name the first of them.
        public var localRepoRootName = "the recipe's directory"

        public init(directory: String, display: String, location: SourceLocation, home: String?, repos: RepoFetcher) {
            self.directory = directory
            self.display = display
            self.location = location
            self.home = home
            self.repos = repos
        }
    }

    public static func bake(_ request: Request, diagnostics: inout Diagnostics) -> BakedContext {
        var baked = BakedContext()
        let prefix = ContextLayout.contextDirectory
        let walker = ContextWalker(root: request.directory, displayRoot: request.display, archivePrefix: prefix)
        var (found, problems) = walker.walk()
        for problem in problems {
            let at = problem.path == request.display ? request.location : SourceLocation(file: problem.path, line: 0, column: 0)
            diagnostics.error(problem.path == request.display ? "context '\(request.display)' \(problem.message)" : problem.message, at: at)
        }
        guard let first = found.first else { return baked }
        guard first.kind == .directory else {
            diagnostics.error("context '\(request.display)' must be a directory", at: request.location)
            return baked
        }
        // A package's lock: which commits its repos were baked at. It is metadata, not baked.
        var locked: [String: BakedRepo] = [:]
        if let lock = found.first(where: { $0.path == prefix + "/" + lockFile }), let source = lock.sourcePath {
            locked = readLock(source)
            found.removeAll { $0.path == lock.path }
        }

        if let problem = Names.relativePathProblem(request.manifest, what: "context.manifest") {
            diagnostics.error(problem, at: request.location)
            baked.entries = found
            return baked
        }
        let manifestPath = prefix + "/" + DockerIgnore.clean(request.manifest)
        let manifestDisplay = request.display + "/" + DockerIgnore.clean(request.manifest)
        guard let manifestEntry = found.first(where: { $0.path == manifestPath }), manifestEntry.kind == .file, let source = manifestEntry.sourcePath else {
            diagnostics.error("context '\(request.display)' has no \(request.manifest) listing its files (or .dockerignore excludes it)", at: request.location)
            baked.entries = found
            return baked
        }
        let text: String
        do {
            text = try readSmallFile(source)
        } catch {
            diagnostics.error("cannot read the manifest: \(error)", at: SourceLocation(file: manifestDisplay, line: 0, column: 0))
            baked.entries = found
            return baked
        }
        guard let manifest = ContextManifest.parse(text, file: manifestDisplay, diagnostics: &diagnostics) else {
            baked.entries = found
            return baked
        }
        baked.manifest = manifest

        // Repositories: fetched at their commit (a package has them already, at its lock's).
        var repoEntries: [ContextEntry] = []
        for repo in manifest.repos {
            let relative = DockerIgnore.clean(repo.path.value)
            let archivePath = prefix + "/" + relative
            if let lockedRepo = locked[relative], lockedRepo.url == repo.url.value {
                baked.repos.append(lockedRepo)
                baked.listed.append(archivePath)
                continue
            }
            if found.contains(where: { $0.path == archivePath || $0.path.hasPrefix(archivePath + "/") }) {
                diagnostics.error(
                    "repos: '\(repo.path.value)' already exists in the context directory; a repository is fetched there, remove or rename it",
                    at: repo.path.location)
                continue
            }
            guard let (url, local) = fetchable(repo, request: request, diagnostics: &diagnostics) else { continue }
            do {
                let commit = try request.repos.resolve(url: url, ref: repo.ref, local: local)
                let checkout = try request.repos.checkout(url: url, commit: commit, local: local)
                let (tree, treeProblems) = ContextWalker(
                    root: checkout.directory, displayRoot: "\(manifestDisplay): repo \(repo.path.value)",
                    archivePrefix: archivePath
                ).walk()
                for problem in treeProblems { diagnostics.error("repo '\(repo.path.value)': \(problem.message)", at: repo.location) }
                repoEntries += tree
                baked.repos.append(BakedRepo(path: relative, url: repo.url.value, ref: repo.ref.description, commit: commit))
                baked.listed.append(archivePath)
            } catch {
                // Named as the manifest writes it, not as this machine resolved it.
                let message = local ? "\(error)".replacingOccurrences(of: url, with: repo.url.value) : "\(error)"
                diagnostics.error("repo '\(repo.path.value)': \(message)", at: repo.url.location)
            }
        }

        // Every listed path is in the directory.
        var present: [String: ContextEntry.Kind] = [:]
        for entry in found where present[entry.path] == nil { present[entry.path] = entry.kind }
        var listedEntries: [(ContextManifest.Entry, String)] = []
        for entry in manifest.entries {
            let path = prefix + "/" + DockerIgnore.clean(entry.path.value)
            guard let kind = present[path] else {
                diagnostics.error(
                    "manifest lists '\(entry.path.value)', which is not in the context directory (missing, or excluded by .dockerignore)",
                    at: entry.path.location)
                continue
            }
            if entry.path.value.hasSuffix("/"), kind != .directory {
                diagnostics.error("manifest entry '\(entry.path.value)' ends with '/' but is not a directory", at: entry.path.location)
                continue
            }
            baked.listed.append(path)
            listedEntries.append((entry, path))
        }
        warnUnlisted(found, listed: Set(baked.listed), manifestPath: manifestPath, display: request.display, manifestName: request.manifest, diagnostics: &diagnostics)

        // Configs at their targets.
        var targetEntries: [ContextEntry] = []
        for (entry, path) in listedEntries {
            guard let target = entry.target else { continue }
            var absolute = target.value
            var underHome = false
            if absolute.hasPrefix("~/") {
                guard let home = request.home else {
                    if request.requireHome {
                        diagnostics.error(
                            "target '\(target.value)' is under the user's home, but the layer has no user (give it or an ancestor a 'user:')",
                            at: target.location)
                    }
                    continue
                }
                absolute = (home.hasSuffix("/") ? String(home.dropLast()) : home) + "/" + absolute.dropFirst(2)
                underHome = true
            }
            let isDirectory = present[path] == .directory
            if absolute.hasSuffix("/") { absolute.removeLast() }
            let relative = underHome ? String(absolute.dropFirst((request.home ?? "").count).drop { $0 == "/" }) : String(absolute.dropFirst())
            let targetPrefix = ContextLayout.targetsDirectory + (underHome ? "/home/" : "/root/") + relative
            for item in found where item.path == path || item.path.hasPrefix(path + "/") {
                var copy = item
                copy.path = targetPrefix + item.path.dropFirst(path.count)
                targetEntries.append(copy)
            }
            baked.targets.append(ConfigTarget(source: String(path.dropFirst(prefix.count + 1)), target: absolute, isDirectory: isDirectory, underHome: underHome))
        }
        baked.entries = found + repoEntries + targetEntries
        return baked
    }

    /// Files nobody listed are probably forgotten in the manifest: a warning, not an error.
    private static func warnUnlisted(
        _ entries: [ContextEntry], listed: Set<String>, manifestPath: String, display: String, manifestName: String,
        diagnostics: inout Diagnostics
    ) {
        let lengths = Set(listed.map(\.utf8.count))
        func isListed(_ path: Substring) -> Bool { lengths.contains(path.utf8.count) && listed.contains(String(path)) }
        var covered: [Substring: Bool] = [:]
        func isCovered(directory: Substring) -> Bool {
            if let known = covered[directory] { return known }
            var result = isListed(directory)
            if !result, let parent = directory.parentPath { result = isCovered(directory: parent) }
            covered[directory] = result
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
                diagnostics.warning("'\(relative)' is in the context but not listed in \(manifestName)", at: SourceLocation(file: display + "/" + relative, line: 0, column: 0))
            }
        }
    }

    // MARK: - Lock

    /// What git fetches for `repo` and whether it is on this machine; nil (with the error at
    /// the manifest's line) when the recipe may not fetch it.
    private static func fetchable(_ repo: ContextManifest.Repo, request: Request, diagnostics: inout Diagnostics) -> (String, Bool)? {
        do {
            switch try RepoSource.classify(repo.url.value, relativeTo: request.directory) {
            case .network(let url):
                return (url, false)
            case .local(let path):
                if request.localRepoRoots.contains(where: { RepoSource.isInside(path, $0) }) { return (path, true) }
                diagnostics.error(
                    "repo '\(repo.path.value)': '\(Redactor.redact(repo.url.value))' is a repository on the build host outside \(request.localRepoRootName); "
                        + "only network repositories (https://, ssh://, git://, user@host:path) and local ones inside \(request.localRepoRootName) are fetched "
                        + "(allow one elsewhere with --allow-local-repos DIR)",
                    at: repo.url.location)
                return nil
            }
        } catch {
            diagnostics.error("repo '\(repo.path.value)': \(error)", at: repo.url.location)
            return nil
        }
    }

    static func lockDocument(_ repos: [BakedRepo]) -> JSONValue {
        [
            "format": "imagegen.context-lock/1",
            "repos": .array(
                repos.sorted { $0.path < $1.path }.map { repo in
                    ["path": .string(repo.path), "url": .string(repo.url), "ref": .string(repo.ref), "commit": .string(repo.commit)]
                }),
        ]
    }

    static func readLock(_ path: String) -> [String: BakedRepo] {
        guard let data = FileManager.default.contents(atPath: path), let document = try? JSONValue(parsing: data),
            document["format"]?.stringValue == "imagegen.context-lock/1"
        else { return [:] }
        var repos: [String: BakedRepo] = [:]
        for item in document["repos"]?.arrayValue ?? [] {
            guard let path = item["path"]?.stringValue, let url = item["url"]?.stringValue, let ref = item["ref"]?.stringValue,
                let commit = item["commit"]?.stringValue
            else { continue }
            repos[path] = BakedRepo(path: path, url: url, ref: ref, commit: commit)
        }
        return repos
    }
}
