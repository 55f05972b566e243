import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// A local git repository for tests: `file://` URLs are what the tests fetch.
struct TestRepository {
    let path: String

    init(in scratch: Scratch, name: String = "upstream") throws {
        path = scratch.url(name)
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        try git(["init", "-q", "-b", "main"])
    }

    var url: String { "file://" + path }

    @discardableResult
    func git(_ arguments: [String]) throws -> String {
        let result = try run("/usr/bin/env", ["git", "-C", path, "-c", "user.name=imagegen", "-c", "user.email=test@imagegen.invalid"] + arguments)
        try #require(result.status == 0, "git \(arguments): \(result.stderr)")
        return result.stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// Writes the files and commits them; returns the commit.
    @discardableResult
    func commit(_ files: [String: String], message: String = "change") throws -> String {
        for (file, text) in files {
            let full = path + "/" + file
            try FileManager.default.createDirectory(atPath: (full as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try text.write(toFile: full, atomically: true, encoding: .utf8)
        }
        try git(["add", "-A"])
        try git(["commit", "-q", "-m", message])
        return try git(["rev-parse", "HEAD"])
    }
}

@Suite("context manifests (FEAT-026)")
struct ContextManifestTests {
    /// A recipe whose layer bakes `ctx/` with the given manifest.
    static func recipe(manifest: String, user: Bool = true) -> String {
        "recipe: demo\nlayers:\n  base:\n    from: imagegen-test/busybox:1\n    distro: busybox\n"
            + (user ? "    user: {name: dev, uid: 1000}\n" : "") + "    context: {dir: ctx}\n"
    }

    static func scratch(manifest: String, files: [String] = ["docs/guide.md", "prompts/review.md", "configs/providers.yaml"]) -> Scratch {
        let scratch = Scratch()
        scratch.write("ctx/manifest.yaml", manifest)
        for file in files { scratch.write("ctx/" + file, "# \(file)\n") }
        return scratch
    }

    static func plan(_ scratch: Scratch, user: Bool = true) -> (BuildPlan?, Diagnostics) {
        let path = scratch.write("recipe.yaml", recipe(manifest: "", user: user))
        return Planner.plan(recipeAt: path, cache: FileDigestCache(file: nil), options: ResolveOptions(cacheDirectory: scratch.url(".cache")))
    }

    static let feat026 = """
        version: "1.0"
        name: "Project Context"
        description: "Context for XYZ project"
        docs:
          - path: "docs/guide.md"
            description: "API documentation"
        prompts:
          - path: "prompts/review.md"
            name: "code-review"
        configs:
          - path: "configs/providers.yaml"
            target: "~/.config/opencode/providers.yaml"

        """

    @Test("the FEAT-026 format and the plain-path format both bake")
    func formats() throws {
        for manifest in [Self.feat026, "docs: [docs/guide.md]\nprompts: [prompts/]\nconfigs: [configs/providers.yaml]\n"] {
            let scratch = Self.scratch(manifest: manifest)
            let (plan, diagnostics) = Self.plan(scratch)
            #expect(!diagnostics.hasErrors, "\(diagnostics.sorted)")
            let layer = try #require(plan?.layers.first)
            #expect(layer.layer.manifestEntries.contains("context/docs/guide.md"))
        }
    }

    @Test("a config's target: ~ is the user's home, the file is laid out under targets/, and the Dockerfile copies it as the user")
    func targets() throws {
        let scratch = Self.scratch(manifest: Self.feat026 + "  - {path: configs/providers.yaml, target: /etc/opencode/providers.yaml}\n")
        let (plan, diagnostics) = Self.plan(scratch)
        // The same file twice, to two targets, is fine.
        let layer = try #require(plan?.layers.first, "\(diagnostics.sorted)")
        let targets = try #require(layer.layer.context?.targets)
        #expect(targets.map(\.target) == ["/home/dev/.config/opencode/providers.yaml", "/etc/opencode/providers.yaml"])
        #expect(layer.layer.sources.contains { $0.path == "targets/home/.config/opencode/providers.yaml" })
        #expect(layer.layer.sources.contains { $0.path == "targets/root/etc/opencode/providers.yaml" })
        #expect(layer.dockerfile.contains("COPY --chown=1000:1000 targets/home/ /home/dev/\n"))
        #expect(layer.dockerfile.contains("COPY --chown=1000:1000 targets/root/etc/opencode/providers.yaml /etc/opencode/providers.yaml\n"))
    }

    @Test("every mistake of a manifest at its line and column, all at once")
    func mistakes() {
        let manifest = """
            version: "2.0"
            descripton: typo
            docs:
              - path: "docs/missing.md"
              - {name: no-path}
              - path: ../outside.md
            configs:
              - path: configs/providers.yaml
                target: relative/place.yaml
              - path: configs/providers.yaml
                target: ~/../etc/passwd
              - path: configs/providers.yaml
                target: /etc/a.yaml
              - path: configs/providers.yaml
                target: /etc/a.yaml
              - path: configs/providers.yaml
                taget: /etc/b.yaml
            repos:
              - {url: "file:///nonexistent/repository", path: repos/gone, branch: main}
              - {url: "file:///nonexistent/repository", path: repos/two, branch: main, tag: v1}
              - {url: "file:///x", path: repos/none}
              - {url: "file:///x", path: docs, commit: abc}

            """
        let scratch = Self.scratch(manifest: manifest)
        let found = Self.plan(scratch).1
        expectDiagnostic(found, line: 1, column: 10, contains: "manifest version '2.0' is not supported")
        expectDiagnostic(found, line: 2, column: 1, contains: "unknown key 'descripton' in the manifest; did you mean 'description'?")
        expectDiagnostic(found, line: 4, column: 11, contains: "manifest lists 'docs/missing.md', which is not in the context directory")
        expectDiagnostic(found, line: 5, column: 5, contains: "an entry of docs needs 'path'")
        expectDiagnostic(found, line: 6, column: 11, contains: "contains '..'")
        expectDiagnostic(found, line: 9, column: 13, contains: "target 'relative/place.yaml' must be absolute")
        expectDiagnostic(found, line: 11, column: 13, contains: "must not climb out with '..'")
        expectDiagnostic(found, line: 15, column: 13, contains: "target '/etc/a.yaml' is already the target of the entry at line 13")
        expectDiagnostic(found, line: 17, column: 5, contains: "unknown key 'taget' in an entry of configs; did you mean 'target'?")
        expectDiagnostic(found, line: 19, column: 11, contains: "repo 'repos/gone': 'file:///nonexistent/repository' is a repository on the build host outside the recipe's directory")
        expectDiagnostic(found, line: 20, column: 5, contains: "a repo takes one of 'branch', 'tag' or 'commit', not branch and tag")
        expectDiagnostic(found, line: 21, column: 5, contains: "a repo needs one of 'branch', 'tag' or 'commit'")
        expectDiagnostic(found, line: 22, column: 44, contains: "must be a full 40-character commit hash")
        #expect(found.errors.count == 13, "\(found.sorted)")
    }

    @Test("a ~ target needs a user; a repo path that exists in the directory is refused; a ref that does not exist is named")
    func moreMistakes() throws {
        let scratch = Self.scratch(manifest: Self.feat026)
        expectDiagnostic(Self.plan(scratch, user: false).1, line: 12, column: 13, contains: "the layer has no user")

        let repo = try TestRepository(in: scratch)
        try repo.commit(["README.md": "hello\n"])
        scratch.write("ctx/manifest.yaml", """
            docs: [docs/guide.md]
            repos:
              - {url: "\(repo.url)", path: docs, branch: main}
              - {url: "\(repo.url)", path: repos/a, branch: no-such-branch}
              - {url: "\(repo.url)", path: repos/b, tag: v9.9.9}

            """)
        let found = Self.plan(scratch).1
        expectDiagnostic(found, line: 3, column: 5 + "{url: \"\(repo.url)\", path: ".count, contains: "'docs' already exists in the context directory")
        expectDiagnostic(found, line: 4, column: 11, contains: "has no branch no-such-branch")
        expectDiagnostic(found, line: 5, column: 11, contains: "has no tag v9.9.9")
    }

    @Test("a secret in any manifest value is refused at its place, never printed")
    func secrets() {
        let token = PlantedSecrets.github
        let scratch = Self.scratch(manifest: "description: \"see \(token)\"\ndocs: [docs/guide.md]\n")
        let found = Self.plan(scratch).1
        expectDiagnostic(found, line: 1, column: 19, contains: "[github-token]")
        #expect(!found.sorted.map(\.description).joined().contains(token))
    }

    @Test("a pinned repo is baked at its commit without .git; the commit is a hash input; --explain names the move")
    func repos() throws {
        let scratch = Self.scratch(manifest: "")
        let repo = try TestRepository(in: scratch)
        let first = try repo.commit(["src/main.c": "int main(void) { return 0; }\n", "README.md": "reference\n"])
        try repo.git(["tag", "v1.0"])
        scratch.write("ctx/manifest.yaml", "docs: [docs/guide.md]\nrepos:\n  - {url: \"\(repo.url)\", path: repos/ref, branch: main}\n")
        let (plan, diagnostics) = Self.plan(scratch)
        let layer = try #require(plan?.layers.first, "\(diagnostics.sorted)")
        #expect(layer.layer.context?.repos.map(\.commit) == [first])
        #expect(layer.layer.sources.contains { $0.path == "context/repos/ref/src/main.c" })
        #expect(!layer.layer.sources.contains { $0.path.contains(".git") })
        #expect(layer.inputs["repos"]?.arrayValue?.first?["commit"]?.stringValue == first)

        // Record it, move the branch: only the commit (and the files) differ, and explain says so.
        try GeneratedDirectory.write(try #require(plan), to: scratch.url("generated"))
        let second = try repo.commit(["README.md": "reference, second edition\n"])
        let moved = try #require(Self.plan(scratch).0)
        #expect(moved.layers[0].contentHash != layer.contentHash)
        let explanation = PlanExplainer.explain(moved, generatedDirectory: scratch.url("generated"))[0].changes
        #expect(explanation.first == "repo repos/ref: \(first.prefix(12)) → \(second.prefix(12))", "\(explanation)")
        // Nothing moved: the same hash.
        #expect(Self.plan(scratch).0?.layers[0].contentHash == moved.layers[0].contentHash)
    }

    @Test("imagegen context validate and package: errors exit 2; a package is the same bytes twice and bakes the same hash as its directory")
    func packages() throws {
        let scratch = Self.scratch(manifest: Self.feat026)
        let repo = try TestRepository(in: scratch)
        try repo.commit(["lib.txt": "library\n"])
        scratch.write("ctx/manifest.yaml", Self.feat026 + "repos:\n  - {url: \"\(repo.url)\", path: repos/lib, branch: main}\n")
        let environment = ["IMAGEGEN_CACHE_DIR": scratch.url(".cache")]
        let outsideRefused = try run(imagegenExecutable, ["context", "validate", scratch.url("ctx")], environment: environment)
        #expect(outsideRefused.status == 2 && outsideRefused.stderr.contains("is a repository on the build host outside the context directory"))
        let valid = try run(imagegenExecutable, ["context", "validate", scratch.url("ctx"), "--allow-local-repos", scratch.path], environment: environment)
        #expect(valid.status == 0, "\(valid.stderr)")
        #expect(valid.stderr.contains("repos/lib at "))

        for name in ["a.context", "b.context"] {
            let written = try run(imagegenExecutable, ["context", "package", scratch.url("ctx"), "--output", scratch.url(name), "--allow-local-repos", scratch.path], environment: environment)
            #expect(written.status == 0, "\(written.stderr)")
            // A second of difference between the two: the bytes must not depend on time.
            Thread.sleep(forTimeInterval: 1.1)
        }
        let a = try #require(FileManager.default.contents(atPath: scratch.url("a.context")))
        #expect(a == FileManager.default.contents(atPath: scratch.url("b.context")))
        #expect(a.prefix(2) == Data([0x1F, 0x8B]))

        // The package bakes what the directory bakes: the same content hash.
        let fromDirectory = try #require(Self.plan(scratch).0?.layers.first)
        // The same recipe file name (the Dockerfile names it), next to the package.
        try FileManager.default.createDirectory(atPath: scratch.url("elsewhere"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: scratch.url("a.context"), toPath: scratch.url("elsewhere/a.context"))
        let packaged = scratch.write("elsewhere/recipe.yaml", "recipe: demo\nlayers:\n  base:\n    from: imagegen-test/busybox:1\n    distro: busybox\n"
                                     + "    user: {name: dev, uid: 1000}\n    context: {package: a.context}\n")
        // Even once the upstream moved on: the package holds its commit.
        try repo.commit(["lib.txt": "library, changed upstream\n"])
        let (fromPackage, diagnostics) = Planner.plan(recipeAt: packaged, cache: FileDigestCache(file: nil), options: ResolveOptions(cacheDirectory: scratch.url(".cache")))
        #expect(fromPackage?.layers.first?.contentHash == fromDirectory.contentHash, "\(diagnostics.sorted)")

        let broken = Self.scratch(manifest: "docs: [docs/nothing.md]\n")
        let invalid = try run(imagegenExecutable, ["context", "validate", broken.url("ctx")], environment: environment)
        #expect(invalid.status == 2)
        #expect(invalid.stderr.contains("manifest.yaml:1:8: error: manifest lists 'docs/nothing.md'"))
        let refused = try run(imagegenExecutable, ["context", "package", broken.url("ctx"), "-o", broken.url("x.context")], environment: environment)
        #expect(refused.status == 2)
        #expect(!FileManager.default.fileExists(atPath: broken.url("x.context")))
    }

    @Test("--context-dir bakes another directory without editing the recipe, and the hash follows it")
    func contextDirectoryOverride() throws {
        let scratch = Self.scratch(manifest: "docs: [docs/guide.md]\n")
        scratch.write("other/manifest.yaml", "docs: [notes.md]\n")
        scratch.write("other/notes.md", "other notes\n")
        let recipe = scratch.write("recipe.yaml", Self.recipe(manifest: ""))
        let environment = ["IMAGEGEN_CACHE_DIR": scratch.url(".cache")]
        let base = try run(imagegenExecutable, ["plan", recipe, "--offline", "--format", "json"], environment: environment)
        let other = try run(imagegenExecutable, ["plan", recipe, "--offline", "--format", "json", "--context-dir", scratch.url("other")], environment: environment)
        #expect(base.status == 0 && other.status == 0, "\(other.stderr)")
        let hashes = try [base, other].map { try JSONValue(parsing: Data($0.stdout.utf8))["layers"]?.arrayValue?.first?["contentHash"]?.stringValue }
        #expect(hashes[0] != nil && hashes[0] != hashes[1])
        let none = scratch.write("plain.yaml", minimalRecipe)
        let refused = try run(imagegenExecutable, ["plan", none, "--offline", "--context-dir", scratch.url("other")], environment: environment)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("no layer of the recipe has a context"))
    }

    @Test("imagegen init writes starters that validate, and never overwrites", arguments: ["minimal", "opencode-sandbox"])
    func initStarters(template: String) throws {
        let scratch = Scratch()
        let environment = ["IMAGEGEN_CACHE_DIR": scratch.url(".cache")]
        let written = try run(imagegenExecutable, ["init", scratch.url("starter"), "--from", template], environment: environment)
        #expect(written.status == 0, "\(written.stderr)")
        let recipe = try #require(scratch.read("starter/recipe.yaml"))
        #expect(recipe.hasPrefix("# yaml-language-server: $schema=recipe.schema.json\n"))
        #expect(scratch.read("starter/recipe.schema.json") == RecipeSchema.document.pretty + "\n")
        let validated = try run(imagegenExecutable, ["validate", scratch.url("starter/recipe.yaml")], environment: environment)
        #expect(validated.status == 0, "\(validated.stderr)")
        #expect(!validated.stderr.contains("warning"), "\(validated.stderr)")
        if template == "opencode-sandbox" {
            for directory in ["docs", "prompts", "skills", "configs", "data", "templates"] {
                #expect(FileManager.default.fileExists(atPath: scratch.url("starter/opencode-context/\(directory)")), "\(directory)/")
            }
        }
        let again = try run(imagegenExecutable, ["init", scratch.url("starter"), "--from", template], environment: environment)
        #expect(again.status == 2)
        #expect(again.stderr.contains("refusing to overwrite"))
    }

    @Test("the starters are the repository's own recipes (scripts/generate-templates is current)")
    func templatesCurrent() throws {
        let result = try run("/usr/bin/env", ["python3", repositoryRoot + "/scripts/generate-templates", "--check"])
        #expect(result.status == 0, "\(result.stderr)")
    }
}

/// `repos:` reads no repository of the build host that the recipe does not own (#24.6).
@Suite("repos: where a manifest may fetch from")
struct RepoSourceTests {
    @Test("network URLs are fetched as written; a path, file://, http://, and git's transports are told apart", arguments: [
        ("https://github.com/example/reference", "network"), ("ssh://git@example.org/x.git", "network"), ("git://example.org/x.git", "network"),
        ("git@github.com:example/reference.git", "network"), ("example.org:team/x", "network"),
        ("file:///srv/checkouts/private", "local"), ("/srv/checkouts/private", "local"), ("../sibling", "local"), ("./here", "local"), ("~/src/x", "local"),
        ("http://example.org/x.git", "refused: plain http://"), ("ext::sh -c touch% /tmp/pwned", "refused: git's '<transport>::'"),
        ("ftp://example.org/x.git", "refused: 'ftp://'"),
    ])
    func classify(url: String, expected: String) {
        do {
            switch try RepoSource.classify(url, relativeTo: "/tmp") {
            case .network(let written): #expect(expected == "network" && written == url)
            case .local(let path): #expect(expected == "local" && path.hasPrefix("/"))
            }
        } catch {
            #expect(expected.hasPrefix("refused: ") && "\(error)".contains(expected.dropFirst("refused: ".count)), "\(error)")
        }
    }

    @Test("a repository outside the recipe's directory is refused at the manifest's line, whatever the spelling, a symlink included; --allow-local-repos lets one in")
    func outside() throws {
        let outside = Scratch()
        let repo = try TestRepository(in: outside, name: "private")
        try repo.commit(["SECRET-PLAN.md": "# internal\n"])
        let scratch = ContextManifestTests.scratch(manifest: """
            docs: [docs/guide.md]
            repos:
              - {url: "file://\(repo.path)", path: repos/a, branch: main}
              - {url: "\(repo.path)", path: repos/b, branch: main}
              - {url: "../../\((outside.path as NSString).lastPathComponent)/private", path: repos/c, branch: main}
              - {url: "../link", path: repos/d, branch: main}
            """, files: ["docs/guide.md"])
        try FileManager.default.createSymbolicLink(atPath: scratch.url("link"), withDestinationPath: repo.path)
        let (plan, found) = ContextManifestTests.plan(scratch)
        #expect(plan == nil)
        for line in 3...6 {
            expectDiagnostic(found, line: line, column: 11, contains: "is a repository on the build host outside the recipe's directory")
        }
        // Nothing was fetched: no repository reached the cache.
        #expect(!FileManager.default.fileExists(atPath: scratch.url(".cache/repos")))

        // Allowed on the command line: fetched.
        let path = scratch.write("recipe.yaml", ContextManifestTests.recipe(manifest: ""))
        let (allowed, diagnostics) = Planner.plan(recipeAt: path, cache: FileDigestCache(file: nil),
                                                  options: ResolveOptions(cacheDirectory: scratch.url(".cache"), localRepoRoots: [outside.path]))
        #expect(!diagnostics.hasErrors, "\(diagnostics.sorted)")
        #expect(allowed?.layers.first?.layer.sources.contains { $0.path == "context/repos/a/SECRET-PLAN.md" } == true)
    }

    @Test("a repository inside the recipe's directory is fetched; a failure names the manifest's line and never the cache's paths")
    func inside() throws {
        let scratch = ContextManifestTests.scratch(manifest: """
            docs: [docs/guide.md]
            repos:
              - {url: "../vendor/lib", path: repos/lib, branch: main}
              - {url: "../vendor/lib", path: repos/old, commit: "\(String(repeating: "0", count: 40))"}
            """, files: ["docs/guide.md"])
        let repo = try TestRepository(in: scratch, name: "vendor/lib")
        try repo.commit(["README.md": "# lib\n"])
        let (_, found) = ContextManifestTests.plan(scratch)
        #expect(found.errors.count == 1, "\(found.sorted)")
        expectDiagnostic(found, line: 4, column: 11, contains: "repo 'repos/old': cannot fetch commit 000000000000 from ../vendor/lib")
        #expect(!found.sorted.contains { $0.message.contains(scratch.url(".cache")) }, "\(found.sorted)")
    }
}
