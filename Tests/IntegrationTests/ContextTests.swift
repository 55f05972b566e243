import DockerEngine
import Foundation
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache
import Testing

/// Baked context (FEAT-026) on a real engine: configs at their targets, pinned repositories, packages.
@Suite("baked context on a real engine")
struct ContextTests {
    static func recipe(_ name: String, context: String, policy: String = "") -> String {
        EngineFixture.recipe(
            name,
            layers: """
                  tools:
                    from: base
                    run: ["echo tools > /tools.txt"]
                  context:
                    from: tools
                    context: \(context)
                \(policy)
                """)
    }

    @Test("configs at their targets are the user's and readable, ~ is the home; a pinned repo: a new commit rebuilds only the context layer; a package bakes the same image")
    func bake() async throws {
        try await withRecipeFixture("ctx") { fixture in
            let name = fixture.name, scratch = fixture.scratch
            let upstream = try TestRepository(in: scratch)
            try upstream.commit(["README.md": "reference v1\n"], message: "one")
            scratch.write(
                "ctx/manifest.yaml",
                """
                version: "1.0"
                name: "Test context"
                docs: [{path: docs/guide.md, description: "a guide"}]
                configs:
                  - {path: configs/providers.yaml, target: "~/.config/opencode/providers.yaml"}
                  - {path: configs/tool.conf, target: /etc/tool/tool.conf}
                repos:
                  - {url: "\(upstream.url)", path: repos/reference, branch: main}

                """)
            scratch.write("ctx/docs/guide.md", "# guide\n")
            scratch.write("ctx/configs/providers.yaml", "providers: {anthropic: {base_url: https://api.anthropic.com/v1}}\n")
            scratch.write("ctx/configs/tool.conf", "level = 3\n")
            scratch.write("recipe.yaml", Self.recipe(name, context: "{dir: ctx, dest: /workspace/context}"))

            let first = try imagegen(["build", "recipe.yaml", "--format", "json"], in: scratch)
            #expect(first.status == 0, "\(first.stderr)")
            let plan = try planRecipe(Self.recipe(name, context: "{dir: ctx, dest: /workspace/context}"), in: scratch)
            let context = try #require(plan.layer(named: "context"))
            let probe = """
                stat -c '%U:%G %a' /home/dev/.config /home/dev/.config/opencode /home/dev/.config/opencode/providers.yaml /etc/tool/tool.conf \
                && cat /home/dev/.config/opencode/providers.yaml /etc/tool/tool.conf /workspace/context/repos/reference/README.md \
                && ls -a /workspace/context/repos/reference
                """
            let output = try run("/usr/bin/env", ["docker", "run", "--rm", "--network", "none", "--entrypoint", "/bin/sh", context.reference.description, "-c", probe])
            #expect(output.status == 0, "\(output.stderr)")
            let lines = output.stdout.split(separator: "\n").map(String.init)
            #expect(lines.prefix(4) == ["dev:dev 755", "dev:dev 755", "dev:dev 644", "dev:dev 644"], "\(lines)")
            #expect(output.stdout.contains("anthropic") && output.stdout.contains("level = 3") && output.stdout.contains("reference v1"))
            #expect(!output.stdout.contains(".git"), "the repo is baked without .git")
            let verify = try imagegen(["verify", "recipe.yaml", "--layer", "context"], in: scratch)
            #expect(verify.status == 0, "\(verify.stdout)")
            #expect(verify.stdout.contains("files.exists: /home/dev/.config/opencode/providers.yaml"))

            // A new commit on the branch: only the context layer's hash moves.
            try upstream.commit(["README.md": "reference v2\n"], message: "two")
            let moved = try planRecipe(Self.recipe(name, context: "{dir: ctx, dest: /workspace/context}"), in: scratch)
            #expect(moved.layer(named: "tools")?.contentHash == plan.layer(named: "tools")?.contentHash)
            #expect(moved.layer(named: "context")?.contentHash != context.contentHash)
            let rebuilt = try imagegen(["build", "recipe.yaml", "--progress", "plain"], in: scratch)
            #expect(rebuilt.stdout.contains("1 built, 2 cached"), "\(rebuilt.stdout)")
            // The same commit again: nothing to build.
            let again = try imagegen(["build", "recipe.yaml", "--progress", "plain"], in: scratch)
            #expect(again.stdout.contains("0 built, 3 cached"), "\(again.stdout)")

            // A package of the directory, baked from a recipe of the same name: the same image, so cached.
            let packaged = try imagegen(["context", "package", "ctx", "--output", "pkg/ctx.context", "--allow-local-repos", "."], in: scratch)
            #expect(packaged.status == 0, "\(packaged.stderr)")
            scratch.write("pkg/recipe.yaml", Self.recipe(name, context: "{package: ctx.context, dest: /workspace/context}"))
            let fromPackage = try run(
                imagegenExecutable, ["build", "recipe.yaml", "--progress", "plain"], directory: scratch.url("pkg"),
                environment: ["IMAGEGEN_CACHE_DIR": scratch.url(".cache")])
            #expect(fromPackage.status == 0, "\(fromPackage.stderr)")
            #expect(fromPackage.stdout.contains("0 built, 3 cached"), "\(fromPackage.stdout)")
        }
    }

    @Test("a context over its budget: the report names the largest context files")
    func budget() async throws {
        try await withRecipeFixture("ctxbudget") { fixture in
            let name = fixture.name, scratch = fixture.scratch
            scratch.write("ctx/manifest.yaml", "data: [data/]\n")
            scratch.write("ctx/data/big.csv", String(repeating: "a,b,c\n", count: 50_000))
            scratch.write("ctx/data/small.csv", "a,b\n")
            scratch.write("recipe.yaml", Self.recipe(name, context: "{dir: ctx}", policy: "    policy: {max-added: 100KB}"))
            let build = try imagegen(["build", "recipe.yaml"], in: scratch)
            #expect(build.status == 0, "\(build.stderr)")
            let verify = try imagegen(["verify", "recipe.yaml", "--layer", "context"], in: scratch)
            #expect(verify.status == 1)
            let lines = verify.stdout.split(separator: "\n").map(String.init)
            let failure = try #require(lines.firstIndex { $0.contains("✗ size.added") }, "\(verify.stdout)")
            // The details name what pushed it over: the packages (none here: the bytes are unowned), then the files.
            let details = lines[(failure + 1)...].prefix { $0.hasPrefix("      | ") }
            #expect(details.first == "      | largest packages:", "\(details)")
            let files = try #require(details.firstIndex(of: "      | largest files:"), "\(details)")
            #expect(lines[files + 1].contains("/workspace/context/data/big.csv"), "\(details)")
        }
    }
}
