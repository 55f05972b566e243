import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

@Suite("context manifests (FEAT-026)")
struct ContextManifestTests {
    @Test("the FEAT-026 format and the plain-path format both bake")
    func formats() throws {
        for manifest in [ContextFixture.feat026, "docs: [docs/guide.md]\nprompts: [prompts/]\nconfigs: [configs/providers.yaml]\n"] {
            let scratch = ContextFixture.scratch(manifest: manifest)
            let (plan, diagnostics) = ContextFixture.plan(scratch)
            #expect(!diagnostics.hasErrors, "\(diagnostics.sorted)")
            let layer = try #require(plan?.layers.first)
            #expect(layer.layer.manifestEntries.contains("context/docs/guide.md"))
        }
    }

    @Test("a config's target: ~ is the user's home, the file is laid out under targets/, and the Dockerfile copies it as the user")
    func targets() throws {
        let scratch = ContextFixture.scratch(manifest: ContextFixture.feat026 + "  - {path: configs/providers.yaml, target: /etc/opencode/providers.yaml}\n")
        let (plan, diagnostics) = ContextFixture.plan(scratch)
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
        let scratch = ContextFixture.scratch(manifest: manifest)
        let found = ContextFixture.plan(scratch).1
        expectDiagnostic(found, line: 1, column: 10, contains: "manifest version '2.0' is not supported")
        expectDiagnostic(found, line: 2, column: 1, contains: "unknown key 'descripton' in the manifest; did you mean 'description'?")
        expectDiagnostic(found, line: 4, column: 11, contains: "manifest lists 'docs/missing.md', which is not in the context directory")
        expectDiagnostic(found, line: 5, column: 5, contains: "an entry of docs needs 'path'")
        expectDiagnostic(found, line: 6, column: 11, contains: "contains '..'")
        expectDiagnostic(found, line: 9, column: 13, contains: "target 'relative/place.yaml' must be absolute")
        expectDiagnostic(found, line: 11, column: 13, contains: "must not climb out with '..'")
        expectDiagnostic(found, line: 15, column: 13, contains: "target '/etc/a.yaml' is already the target of the entry at line 13")
        expectDiagnostic(found, line: 17, column: 5, contains: "unknown key 'taget' in an entry of configs; did you mean 'target'?")
        expectDiagnostic(
            found, line: 19, column: 11, contains: "repo 'repos/gone': 'file:///nonexistent/repository' is a repository on the build host outside the recipe's directory")
        expectDiagnostic(found, line: 20, column: 5, contains: "a repo takes one of 'branch', 'tag' or 'commit', not branch and tag")
        expectDiagnostic(found, line: 21, column: 5, contains: "a repo needs one of 'branch', 'tag' or 'commit'")
        expectDiagnostic(found, line: 22, column: 44, contains: "must be a full 40-character commit hash")
        #expect(found.errors.count == 13, "\(found.sorted)")
    }

    @Test("a ~ target needs a user")
    func homeNeedsUser() throws {
        let scratch = ContextFixture.scratch(manifest: ContextFixture.feat026)
        expectDiagnostic(ContextFixture.plan(scratch, user: false).1, line: 12, column: 13, contains: "the layer has no user")
    }

    @Test("a secret in any manifest value is refused at its place, never printed")
    func secrets() {
        let token = PlantedSecrets.github
        let scratch = ContextFixture.scratch(manifest: "description: \"see \(token)\"\ndocs: [docs/guide.md]\n")
        let found = ContextFixture.plan(scratch).1
        expectDiagnostic(found, line: 1, column: 19, contains: "[github-token]")
        #expect(!found.sorted.map(\.description).joined().contains(token))
    }

    @Test("--context-dir bakes another directory without editing the recipe, and the hash follows it")
    func contextDirectoryOverride() throws {
        let scratch = ContextFixture.scratch(manifest: "docs: [docs/guide.md]\n")
        scratch.write("other/manifest.yaml", "docs: [notes.md]\n")
        scratch.write("other/notes.md", "other notes\n")
        let recipe = scratch.write("recipe.yaml", ContextFixture.recipe(manifest: ""))
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
}

/// `repos:` reads no repository of the build host that the recipe does not own (#24.6).
@Suite("repos: where a manifest may fetch from")
struct RepoSourceTests {
    @Test(
        "network URLs are fetched as written; a path, file://, http://, and git's transports are told apart",
        arguments: [
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
}
