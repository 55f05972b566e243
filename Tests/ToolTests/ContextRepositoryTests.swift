import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// Context repositories fetched with git (local `file://` repositories made for each test), the
/// context package command, and the starters' generator (python3).
@Suite("context repositories (git)")
struct ContextRepositoryTests {
    @Test("a repo path that exists in the directory is refused; a ref that does not exist is named")
    func refs() throws {
        let scratch = ContextFixture.scratch(manifest: ContextFixture.feat026)
        let repo = try TestRepository(in: scratch)
        try repo.commit(["README.md": "hello\n"])
        scratch.write(
            "ctx/manifest.yaml",
            """
            docs: [docs/guide.md]
            repos:
              - {url: "\(repo.url)", path: docs, branch: main}
              - {url: "\(repo.url)", path: repos/a, branch: no-such-branch}
              - {url: "\(repo.url)", path: repos/b, tag: v9.9.9}

            """)
        let found = ContextFixture.plan(scratch).1
        expectDiagnostic(found, line: 3, column: 5 + "{url: \"\(repo.url)\", path: ".count, contains: "'docs' already exists in the context directory")
        expectDiagnostic(found, line: 4, column: 11, contains: "has no branch no-such-branch")
        expectDiagnostic(found, line: 5, column: 11, contains: "has no tag v9.9.9")
    }

    @Test("a pinned repo is baked at its commit without .git; the commit is a hash input; --explain names the move")
    func repos() throws {
        let scratch = ContextFixture.scratch(manifest: "")
        let repo = try TestRepository(in: scratch)
        let first = try repo.commit(["src/main.c": "int main(void) { return 0; }\n", "README.md": "reference\n"])
        try repo.git(["tag", "v1.0"])
        scratch.write("ctx/manifest.yaml", "docs: [docs/guide.md]\nrepos:\n  - {url: \"\(repo.url)\", path: repos/ref, branch: main}\n")
        let (plan, diagnostics) = ContextFixture.plan(scratch)
        let layer = try #require(plan?.layers.first, "\(diagnostics.sorted)")
        #expect(layer.layer.context?.repos.map(\.commit) == [first])
        #expect(layer.layer.sources.contains { $0.path == "context/repos/ref/src/main.c" })
        #expect(!layer.layer.sources.contains { $0.path.contains(".git") })
        #expect(layer.inputs["repos"]?.arrayValue?.first?["commit"]?.stringValue == first)

        // Record it, move the branch: only the commit (and the files) differ, and explain says so.
        try GeneratedDirectory.write(try #require(plan), to: scratch.url("generated"))
        let second = try repo.commit(["README.md": "reference, second edition\n"])
        let moved = try #require(ContextFixture.plan(scratch).0)
        #expect(moved.layers[0].contentHash != layer.contentHash)
        let explanation = PlanExplainer.explain(moved, generatedDirectory: scratch.url("generated"))[0].changes
        #expect(explanation.first == "repo repos/ref: \(first.prefix(12)) → \(second.prefix(12))", "\(explanation)")
        // Nothing moved: the same hash.
        #expect(ContextFixture.plan(scratch).0?.layers[0].contentHash == moved.layers[0].contentHash)
    }

    @Test("imagegen context validate and package: errors exit 2; a package is the same bytes twice and bakes the same hash as its directory")
    func packages() throws {
        let scratch = ContextFixture.scratch(manifest: ContextFixture.feat026)
        let repo = try TestRepository(in: scratch)
        try repo.commit(["lib.txt": "library\n"])
        scratch.write("ctx/manifest.yaml", ContextFixture.feat026 + "repos:\n  - {url: \"\(repo.url)\", path: repos/lib, branch: main}\n")
        let environment = ["IMAGEGEN_CACHE_DIR": scratch.url(".cache")]
        let outsideRefused = try run(imagegenExecutable, ["context", "validate", scratch.url("ctx")], environment: environment)
        #expect(outsideRefused.status == 2 && outsideRefused.stderr.contains("is a repository on the build host outside the context directory"))
        let valid = try run(imagegenExecutable, ["context", "validate", scratch.url("ctx"), "--allow-local-repos", scratch.path], environment: environment)
        #expect(valid.status == 0, "\(valid.stderr)")
        #expect(valid.stderr.contains("repos/lib at "))

        for name in ["a.context", "b.context"] {
            let written = try run(
                imagegenExecutable, ["context", "package", scratch.url("ctx"), "--output", scratch.url(name), "--allow-local-repos", scratch.path], environment: environment)
            #expect(written.status == 0, "\(written.stderr)")
            // A second of difference between the two: the bytes must not depend on time.
            Thread.sleep(forTimeInterval: 1.1)
        }
        let a = try #require(FileManager.default.contents(atPath: scratch.url("a.context")))
        #expect(a == FileManager.default.contents(atPath: scratch.url("b.context")))
        #expect(a.prefix(2) == Data([0x1F, 0x8B]))

        // The package bakes what the directory bakes: the same content hash.
        let fromDirectory = try #require(ContextFixture.plan(scratch).0?.layers.first)
        // The same recipe file name (the Dockerfile names it), next to the package.
        try FileManager.default.createDirectory(atPath: scratch.url("elsewhere"), withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: scratch.url("a.context"), toPath: scratch.url("elsewhere/a.context"))
        let packaged = scratch.write(
            "elsewhere/recipe.yaml",
            "recipe: demo\nlayers:\n  base:\n    from: imagegen-test/busybox:1\n    distro: busybox\n"
                + "    user: {name: dev, uid: 1000}\n    context: {package: a.context}\n")
        // Even once the upstream moved on: the package holds its commit.
        try repo.commit(["lib.txt": "library, changed upstream\n"])
        let (fromPackage, diagnostics) = Planner.plan(recipeAt: packaged, cache: FileDigestCache(file: nil), options: ResolveOptions(cacheDirectory: scratch.url(".cache")))
        #expect(fromPackage?.layers.first?.contentHash == fromDirectory.contentHash, "\(diagnostics.sorted)")

        let broken = ContextFixture.scratch(manifest: "docs: [docs/nothing.md]\n")
        let invalid = try run(imagegenExecutable, ["context", "validate", broken.url("ctx")], environment: environment)
        #expect(invalid.status == 2)
        #expect(invalid.stderr.contains("manifest.yaml:1:8: error: manifest lists 'docs/nothing.md'"))
        let refused = try run(imagegenExecutable, ["context", "package", broken.url("ctx"), "-o", broken.url("x.context")], environment: environment)
        #expect(refused.status == 2)
        #expect(!FileManager.default.fileExists(atPath: broken.url("x.context")))
    }

    @Test("the starters are the repository's own recipes (scripts/generate-templates is current)")
    func templatesCurrent() throws {
        let result = try run("/usr/bin/env", ["python3", repositoryRoot + "/scripts/generate-templates", "--check"])
        #expect(result.status == 0, "\(result.stderr)")
    }
}

/// `repos:` reads no repository of the build host that the recipe does not own (#24.6).
@Suite("repos: local repositories")
struct LocalRepositoryTests {
    @Test("a repository outside the recipe's directory is refused at the manifest's line, whatever the spelling, a symlink included; --allow-local-repos lets one in")
    func outside() throws {
        let outside = Scratch()
        let repo = try TestRepository(in: outside, name: "private")
        try repo.commit(["SECRET-PLAN.md": "# internal\n"])
        let scratch = ContextFixture.scratch(
            manifest: """
                docs: [docs/guide.md]
                repos:
                  - {url: "file://\(repo.path)", path: repos/a, branch: main}
                  - {url: "\(repo.path)", path: repos/b, branch: main}
                  - {url: "../../\((outside.path as NSString).lastPathComponent)/private", path: repos/c, branch: main}
                  - {url: "../link", path: repos/d, branch: main}
                """, files: ["docs/guide.md"])
        try FileManager.default.createSymbolicLink(atPath: scratch.url("link"), withDestinationPath: repo.path)
        let (plan, found) = ContextFixture.plan(scratch)
        #expect(plan == nil)
        for line in 3...6 {
            expectDiagnostic(found, line: line, column: 11, contains: "is a repository on the build host outside the recipe's directory")
        }
        // Nothing was fetched: no repository reached the cache.
        #expect(!FileManager.default.fileExists(atPath: scratch.url(".cache/repos")))

        // Allowed on the command line: fetched.
        let path = scratch.write("recipe.yaml", ContextFixture.recipe(manifest: ""))
        let (allowed, diagnostics) = Planner.plan(
            recipeAt: path, cache: FileDigestCache(file: nil),
            options: ResolveOptions(cacheDirectory: scratch.url(".cache"), localRepoRoots: [outside.path]))
        #expect(!diagnostics.hasErrors, "\(diagnostics.sorted)")
        #expect(allowed?.layers.first?.layer.sources.contains { $0.path == "context/repos/a/SECRET-PLAN.md" } == true)
    }

    @Test("a repository inside the recipe's directory is fetched; a failure names the manifest's line and never the cache's paths")
    func inside() throws {
        let scratch = ContextFixture.scratch(
            manifest: """
                docs: [docs/guide.md]
                repos:
                  - {url: "../vendor/lib", path: repos/lib, branch: main}
                  - {url: "../vendor/lib", path: repos/old, commit: "\(String(repeating: "0", count: 40))"}
                """, files: ["docs/guide.md"])
        let repo = try TestRepository(in: scratch, name: "vendor/lib")
        try repo.commit(["README.md": "# lib\n"])
        let (_, found) = ContextFixture.plan(scratch)
        #expect(found.errors.count == 1, "\(found.sorted)")
        expectDiagnostic(found, line: 4, column: 11, contains: "repo 'repos/old': cannot fetch commit 000000000000 from ../vendor/lib")
        #expect(!found.sorted.contains { $0.message.contains(scratch.url(".cache")) }, "\(found.sorted)")
    }
}
