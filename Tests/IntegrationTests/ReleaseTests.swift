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

@Suite("release to a real registry", .serialized)
struct ReleaseTests {
    static func recipe(_ name: String, probe: String = "true") -> String {
        EngineFixture.recipe(name, layers: "  tool:\n    from: base\n    probes: [\"\(probe)\"]\n")
    }

    func release(
        _ plan: BuildPlan, _ version: String, registry: LocalRegistry, push: Bool = true, engine: DockerEngine,
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> Releaser.Report {
        var options = Releaser.Options(info: ReleaseInfo(version: try SemVer(parsing: version), revision: String(repeating: "ab", count: 20), created: "2026-11-23T12:00:00Z"))
        options.push = push
        options.registry = "\(registry.address)/team"
        options.probeTimeout = 10
        return try await Releaser(engine: engine, plan: plan, options: options, progress: progress).run()
    }

    /// The test recipe planned and built.
    static func builtFamily(_ name: String, in scratch: Scratch, engine: DockerEngine) async throws -> BuildPlan {
        let plan = try planRecipe(recipe(name), in: scratch)
        #expect(try await Builder(engine: engine, plan: plan, options: BuildOptions()).run().succeeded)
        return plan
    }

    func actions(_ report: Releaser.Report, layer: String = "tool") -> [String: String] {
        Dictionary(uniqueKeysWithValues: report.tags.filter { $0.layer == layer }.map { ($0.tag.value, $0.action.name) })
    }

    @Test("1.0.0, then 1.1.0, then 1.0.1, then 2.0.0-rc.1: tags land where semver says, in the engine and the registry")
    func scenarios() async throws {
        try await withRecipeFixture("rel") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            let registry = try LocalRegistry()
            defer { registry.stop() }
            let plan = try await Self.builtFamily(name, in: scratch, engine: engine)
            let repository = "team/\(name)-tool"
            let local = "\(registry.address)/\(repository)"

            let first = try await release(plan, "1.0.0", registry: registry, engine: engine)
            #expect(first.succeeded, "\(first.failure ?? "")")
            #expect(actions(first) == ["1.0.0": "created", "1.0": "created", "1": "created", "latest": "created"])
            #expect(try registry.tags(repository) == ["1.0.0", "1.0", "1", "latest"])
            let image100 = try #require(try await engine.inspectImage("\(local):1.0.0"))
            #expect(image100.labels["org.opencontainers.image.version"] == "1.0.0")
            #expect(image100.labels["org.opencontainers.image.revision"] == String(repeating: "ab", count: 20))
            #expect(image100.labels[ImageLabels.contentHash] == plan.layer(named: "tool")?.contentHash.hex)
            // The registry serves, for each tag, the manifest the engine pushed for that image.
            let pushed = try #require(image100.repoDigests?.first { $0.hasPrefix(local + "@") }).split(separator: "@")[1]
            for tag in ["1.0.0", "1.0", "1", "latest"] { #expect(registry.digest(repository, tag) == String(pushed)) }
            // The content-hash image the cache relies on is untouched.
            #expect(try await engine.inspectImage(try #require(plan.layer(named: "tool")).reference)?.labels["org.opencontainers.image.version"] == nil)

            // The same release again: nothing to do, and it succeeds.
            let again = try await release(plan, "1.0.0", registry: registry, engine: engine)
            #expect(again.succeeded && again.tags.allSatisfy { $0.action.name == "kept" })

            let second = try await release(plan, "1.1.0", registry: registry, engine: engine)
            #expect(actions(second) == ["1.1.0": "created", "1.1": "created", "1": "moved", "latest": "moved"])
            let digest110 = registry.digest(repository, "1.1.0")
            #expect(digest110 != nil && digest110 != String(pushed))
            #expect(registry.digest(repository, "1") == digest110 && registry.digest(repository, "latest") == digest110)
            #expect(registry.digest(repository, "1.0") == String(pushed))

            let patch = try await release(plan, "1.0.1", registry: registry, engine: engine)
            #expect(actions(patch) == ["1.0.1": "created", "1.0": "moved", "1": "kept", "latest": "kept"])
            // With --push the registry's version decides (here the engine agrees).
            #expect(patch.tags.first { $0.layer == "tool" && $0.tag == "latest" }?.action == .keep("stays at 1.1.0 in the registry, which is newer"))
            #expect(registry.digest(repository, "1.0") == registry.digest(repository, "1.0.1"))
            #expect(registry.digest(repository, "latest") == digest110)
            #expect(try await engine.inspectImage("\(local):latest")?.labels["org.opencontainers.image.version"] == "1.1.0")

            let candidate = try await release(plan, "2.0.0-rc.1", registry: registry, engine: engine)
            #expect(actions(candidate) == ["2.0.0-rc.1": "created"])
            #expect(registry.digest(repository, "latest") == digest110)
            #expect(try registry.tags(repository) == ["1.0.0", "1.0", "1", "latest", "1.1.0", "1.1", "1.0.1", "2.0.0-rc.1"])

            // A dry run lists what a release would do and changes nothing.
            let before = try registry.tags(repository)
            var options = Releaser.Options(info: ReleaseInfo(version: try SemVer(parsing: "1.3.0"), revision: nil, created: "2026-11-23T12:00:00Z"))
            options.registry = "\(registry.address)/team"
            options.dryRun = true
            options.push = true
            let planned = try await Releaser(engine: engine, plan: plan, options: options).run()
            #expect(actions(planned) == ["1.3.0": "created", "1.3": "created", "1": "moved", "latest": "moved"])
            #expect(try await engine.inspectImage("\(local):1.3.0") == nil)
            #expect(try await engine.inspectImage("\(local):latest")?.labels["org.opencontainers.image.version"] == "1.1.0")
            #expect(try registry.tags(repository) == before)
        }
    }

    /// Removes every tag this engine holds under the registry, as on a fresh CI runner that has
    /// built the images but released nothing.
    func forgetReleaseTags(_ registry: LocalRegistry, recipe: String, engine: DockerEngine) async throws {
        for image in try await engine.listImages(labels: ["\(ImageLabels.recipe)=\(recipe)"]) {
            for tag in image.repoTags ?? [] where tag.hasPrefix(registry.address + "/") { try await engine.removeImage(tag) }
        }
    }

    @Test("on an engine with none of the release tags, the registry decides: latest never moves back, a released version is reused, another content is refused")
    func freshRunner() async throws {
        try await withRecipeFixture("relfresh") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            let registry = try LocalRegistry()
            defer { registry.stop() }
            let plan = try await Self.builtFamily(name, in: scratch, engine: engine)
            let repository = "team/\(name)-tool"
            let local = "\(registry.address)/\(repository)"
            #expect(try await release(plan, "1.1.0", registry: registry, engine: engine).succeeded)
            let digest110 = try #require(registry.digest(repository, "1.1.0"))

            // A hotfix of an older line from another runner.
            try await forgetReleaseTags(registry, recipe: name, engine: engine)
            #expect(try await engine.inspectImage("\(local):latest") == nil)
            let patch = try await release(plan, "1.0.1", registry: registry, engine: engine)
            #expect(patch.succeeded, "\(patch.failure ?? "")")
            #expect(actions(patch) == ["1.0.1": "created", "1.0": "created", "1": "kept", "latest": "kept"])
            #expect(patch.tags.first { $0.layer == "tool" && $0.tag == "latest" }?.action == .keep("stays at 1.1.0 in the registry, which is newer"))
            #expect(registry.digest(repository, "latest") == digest110)
            #expect(registry.digest(repository, "1") == digest110)
            #expect(registry.digest(repository, "1.0") == registry.digest(repository, "1.0.1"))
            #expect(try await engine.inspectImage("\(local):latest") == nil, "a tag kept for a newer release is not created here")

            // The same version again from a fresh runner: the registry's image is pulled and kept.
            try await forgetReleaseTags(registry, recipe: name, engine: engine)
            let again = try await release(plan, "1.1.0", registry: registry, engine: engine)
            #expect(again.succeeded, "\(again.failure ?? "")")
            #expect(actions(again)["1.1.0"] == "kept")
            for tag in ["1.1.0", "1.1", "1", "latest"] { #expect(registry.digest(repository, tag) == digest110, "\(tag)") }
            #expect(try await engine.inspectImage("\(local):1.1.0")?.labels["org.opencontainers.image.version"] == "1.1.0")

            // Other content released under 1.1.0 from a fresh runner: refused, and the registry is as it was.
            let changedScratch = Scratch()
            let changed = try planRecipe(EngineFixture.recipe(name, layers: "  tool:\n    from: base\n    env: {CHANGED: \"yes\"}\n"), in: changedScratch)
            #expect(changed.layer(named: "tool")?.contentHash != plan.layer(named: "tool")?.contentHash)
            #expect(try await Builder(engine: engine, plan: changed, options: BuildOptions()).run().succeeded)
            try await forgetReleaseTags(registry, recipe: name, engine: engine)
            let tagsBefore = try registry.tags(repository)
            let refused = try await release(changed, "1.1.0", registry: registry, engine: engine)
            #expect(!refused.succeeded)
            #expect(refused.failure?.contains("\(local):1.1.0 already names another image in the registry") == true, "\(refused.failure ?? "")")
            #expect(try registry.tags(repository) == tagsBefore)
            #expect(registry.digest(repository, "1.1.0") == digest110)
            #expect(try await engine.inspectImage("\(local):1.1.0") == nil)
        }
    }

    @Test("a registry that wants credentials: without them nothing is tagged and the error says what to set; with them it reads and pushes")
    func registryCredentials() async throws {
        try await withRecipeFixture("relauth") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            let password = "rel-pw-\(UInt32.random(in: 1000...9999))"
            let registry = try LocalRegistry(credentials: ("releaser", password))
            defer { registry.stop() }
            #expect(registry.get("/v2/").status == 200)
            scratch.write("recipe.yaml", Self.recipe(name))
            #expect(try imagegen(["build", "recipe.yaml"], in: scratch).status == 0)
            let release = ["release", "recipe.yaml", "--version", "1.0.0", "--push", "--registry", "\(registry.address)/team"]
            let local = "\(registry.address)/team/\(name)-tool"

            let anonymous = try imagegen(release, in: scratch, environment: ["DOCKER_CONFIG": scratch.url("no-docker-config")])
            #expect(anonymous.status == 1)
            #expect(anonymous.stderr.contains("needs credentials (IMAGEGEN_REGISTRY_USER and IMAGEGEN_REGISTRY_PASSWORD"), "\(anonymous.stderr)")
            #expect(try await engine.inspectImage("\(local):1.0.0") == nil)

            let wrong = try imagegen(release, in: scratch, environment: ["IMAGEGEN_REGISTRY_USER": "releaser", "IMAGEGEN_REGISTRY_PASSWORD": "not-\(password)"])
            #expect(wrong.status == 1)
            #expect(wrong.stderr.contains("the credentials were not accepted"), "\(wrong.stderr)")
            #expect(!(wrong.stdout + wrong.stderr).contains(password))

            let authorized = try imagegen(release, in: scratch, environment: ["IMAGEGEN_REGISTRY_USER": "releaser", "IMAGEGEN_REGISTRY_PASSWORD": password])
            #expect(authorized.status == 0, "\(authorized.stderr)")
            #expect(!(authorized.stdout + authorized.stderr).contains(password))
            // The release tags, and the attachments' fallback tag (sha256-<manifest digest>), pushed with the same credentials.
            let tags = try registry.tags("team/\(name)-tool")
            #expect(Set(tags.filter { !$0.hasPrefix("sha256-") }) == ["1.0.0", "1.0", "1", "latest"])
            #expect(tags.filter { $0.hasPrefix("sha256-") }.count == 1, "\(tags)")
        }
    }

    @Test("the CLI: --version-from-git, --dry-run, refusals of bad versions")
    func cli() async throws {
        try await withRecipeFixture("relcli") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            scratch.write("recipe.yaml", Self.recipe(name))
            #expect(try imagegen(["build", "recipe.yaml"], in: scratch).status == 0)
            let git = try #require(which("git"))
            for arguments in [
                ["init", "-q"], ["add", "recipe.yaml"], ["-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-qm", "r"], ["tag", "v1.2.3"],
                ["tag", "v1.2.3-rc.1"],
            ] {
                #expect(try run(git, arguments, directory: scratch.path).status == 0)
            }
            let dry = try imagegen(["release", "recipe.yaml", "--version-from-git", "--dry-run", "--format", "json"], in: scratch)
            #expect(dry.status == 0, "\(dry.stderr)")
            let document = try JSONValue(parsing: Data(dry.stdout.utf8))
            #expect(document["version"] == "1.2.3" && document["dryRun"] == .bool(true))
            #expect(document["revision"]?.stringValue?.count == 40)
            #expect(try await engine.inspectImage("\(name)-tool:1.2.3") == nil)

            let metadata = try imagegen(["release", "recipe.yaml", "--version", "1.2.3+build.7", "--dry-run"], in: scratch)
            #expect(metadata.status == 0)
            #expect(metadata.stderr.contains("note: build metadata is not allowed in Docker tags; the tag is 1.2.3_build.7"))
            #expect(metadata.stdout.contains("\(name)-tool:1.2.3_build.7"))

            #expect(try imagegen(["release", "recipe.yaml", "--version", "1.02.3"], in: scratch).status == 2)
            #expect(try imagegen(["release", "recipe.yaml"], in: scratch).status == 2)
            #expect(try imagegen(["release", "recipe.yaml", "--version", "1.0.0", "--registry", "not a registry"], in: scratch).status == 2)
            #expect(try run(git, ["tag", "-d", "v1.2.3", "v1.2.3-rc.1"], directory: scratch.path).status == 0)
            let untagged = try imagegen(["release", "recipe.yaml", "--version-from-git"], in: scratch)
            #expect(untagged.status == 2)
            #expect(untagged.stderr.contains("the current commit has no vX.Y.Z tag"))
        }
    }

    @Test("a verify failure tags nothing")
    func verifyFailure() async throws {
        try await withRecipeFixture("relbad") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            let registry = try LocalRegistry()
            defer { registry.stop() }
            scratch.write("recipe.yaml", Self.recipe(name, probe: "exit 4"))
            #expect(try imagegen(["build", "recipe.yaml"], in: scratch).status == 0)
            let result = try imagegen(["release", "recipe.yaml", "--version", "1.0.0", "--push", "--registry", "\(registry.address)/team"], in: scratch)
            #expect(result.status == 1)
            #expect(result.stderr.contains("error: verify failed (1 of"))
            #expect(result.stderr.contains("✗ tool: probe: exit 4: exited with 4"))
            #expect(try await engine.inspectImage("\(registry.address)/team/\(name)-tool:1.0.0") == nil)
            #expect(try await engine.inspectImage("\(registry.address)/team/\(name)-base:latest") == nil)
            #expect(registry.get("/v2/team/\(name)-tool/tags/list").status == 404)
        }
    }

    @Test("a push failing midway (the registry stopped) restores every local tag moved in the run")
    func pushFailure() async throws {
        try await withRecipeFixture("relpush") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            let registry = try LocalRegistry()
            defer { registry.stop() }
            let plan = try await Self.builtFamily(name, in: scratch, engine: engine)
            #expect(try await release(plan, "1.0.0", registry: registry, engine: engine).succeeded)
            let local = "\(registry.address)/team/\(name)"
            var before: [String: ImageID] = [:]
            for layer in ["base", "tool"] {
                for tag in ["1.0.0", "1.0", "1", "latest"] { before["\(layer):\(tag)"] = try await engine.inspectImage("\(local)-\(layer):\(tag)")?.id }
            }

            // Stop the registry once the first tag of 1.1.0 is pushed.
            nonisolated(unsafe) var pushes = 0
            let report = try await release(plan, "1.1.0", registry: registry, engine: engine) { message in
                if message.hasPrefix("pushing \(local)") {
                    pushes += 1
                    if pushes == 2 { registry.stop() }
                }
            }
            #expect(!report.succeeded)
            #expect(report.failure?.contains("failed") == true)
            #expect(report.pushedBeforeFailure == ["\(local)-base:1.1.0"])
            // Moved tags point where they did; created ones are gone.
            for (key, id) in before {
                let parts = key.split(separator: ":")
                #expect(try await engine.inspectImage("\(local)-\(parts[0]):\(parts[1])")?.id == id, "\(key)")
            }
            for layer in ["base", "tool"] {
                #expect(try await engine.inspectImage("\(local)-\(layer):1.1.0") == nil)
                #expect(try await engine.inspectImage("\(local)-\(layer):1.1") == nil)
            }
            #expect(report.restored.contains("\(local)-tool:latest → \(before["tool:latest"]?.short ?? "") again"))
            #expect(report.restored.contains("\(local)-base:1.1.0 removed"))
        }
    }
}
