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
import Yams

/// The composite action's own shell steps (action.yml), run as the runner would run them: with
/// the environment its `env:` blocks give, against the engine and a local registry.
@Suite("GitHub action", .serialized)
struct ActionTests {
    /// The `run:` script of the action's step whose name starts with `prefix`.
    static func script(_ prefix: String) throws -> String {
        let text = try String(contentsOfFile: "\(repositoryRoot)/action.yml", encoding: .utf8)
        let document = try #require(try Yams.load(yaml: text) as? [String: Any])
        let steps = try #require((document["runs"] as? [String: Any])?["steps"] as? [[String: Any]])
        let step = try #require(steps.first { ($0["name"] as? String)?.hasPrefix(prefix) == true }, "action.yml has a step '\(prefix)…'")
        #expect(step["shell"] as? String == "bash")
        return try #require(step["run"] as? String)
    }

    /// Runs the action's imagegen step for one command; `inputs` as the `env:` block maps them.
    static func runStep(_ inputs: [String: String], in scratch: Scratch) throws -> (status: Int32, stdout: String, stderr: String) {
        var environment = [
            "IMAGEGEN": imagegenExecutable, "IMAGEGEN_CACHE_DIR": scratch.url(".cache"), "FORK": inputs["FORK"] ?? "false",
            "RUNNER_TEMP": scratch.path, "GITHUB_STEP_SUMMARY": scratch.url("step-summary.md"),
        ]
        for key in ["RECIPE", "COMMAND", "CACHE", "CACHE_MODE", "VERSION", "REGISTRY", "REPORT", "BUILD_CA", "DIFF_FROM"] { environment[key] = inputs[key] ?? "" }
        return try run("/bin/bash", ["-e", "-c", try script("imagegen")], directory: scratch.path, environment: environment)
    }

    @Test("the source key is stable and follows Package.swift and Sources/")
    func sourceKey() throws {
        let scratch = Scratch()
        let identify = try Self.script("Identify")
        func key(_ path: String) throws -> String {
            let output = scratch.write("output-\(UUID().uuidString)", "")
            let result = try run(
                "/bin/bash", ["-e", "-c", identify], directory: scratch.path,
                environment: [
                    "ACTION_PATH": path, "SWIFT_VERSION": "6.3.1", "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64",
                    "RUNNER_TEMP": scratch.url("runner-temp"), "GITHUB_OUTPUT": output,
                ])
            #expect(result.status == 0, "\(result.stderr)")
            let lines = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
            #expect(lines.contains { $0.hasSuffix("/imagegen-build/release/imagegen") && $0.hasPrefix("path=") })
            #expect(lines.contains("version=\(ImageGenVersion.current)") && lines.contains("arch=amd64"))
            #expect(lines.contains("mode=release"), "a released version (no pre-release part) is downloaded")
            return String(try #require(lines.first { $0.hasPrefix("key=") }))
        }
        // A copy of the package's sources, to change one file of.
        let copy = scratch.url("package")
        #expect(try run("/bin/cp", ["-R", "\(repositoryRoot)/Sources", "\(repositoryRoot)/Package.swift", scratch.path]).status == 0)
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        for item in ["Sources", "Package.swift"] { try FileManager.default.moveItem(atPath: scratch.url(item), toPath: "\(copy)/\(item)") }
        let original = try key(copy)
        #expect(original.hasPrefix("key=imagegen-Linux-X64-"))
        #expect(try key(copy) == original)
        #expect(try key(repositoryRoot) == original, "the key depends on the sources, not where they are")
        // install: source, or a -dev version, builds from source.
        for (install, version) in [("source", ImageGenVersion.current), ("release", "9.9.9-dev")] {
            let output = scratch.write("output-\(UUID().uuidString)", "")
            let versionFile = "\(copy)/Sources/ImageGen/Version.swift"
            let original = try String(contentsOfFile: versionFile, encoding: .utf8)
            try original.replacingOccurrences(of: "\"\(ImageGenVersion.current)\"", with: "\"\(version)\"").write(toFile: versionFile, atomically: true, encoding: .utf8)
            let result = try run(
                "/bin/bash", ["-e", "-c", identify], directory: scratch.path,
                environment: [
                    "ACTION_PATH": copy, "SWIFT_VERSION": "6.3.1", "RUNNER_OS": "Linux", "RUNNER_ARCH": "X64", "RUNNER_TEMP": scratch.url("runner-temp"),
                    "GITHUB_OUTPUT": output, "INSTALL": install,
                ])
            try original.write(toFile: versionFile, atomically: true, encoding: .utf8)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try String(contentsOfFile: output, encoding: .utf8).contains("mode=source\n"), "install \(install), version \(version)")
        }
        let file = "\(copy)/Sources/imagegen/main.swift"
        try (String(contentsOfFile: file, encoding: .utf8) + "\n// changed\n").write(toFile: file, atomically: true, encoding: .utf8)
        #expect(try key(copy) != original)
    }

    @Test("build with a cache (owner in capitals), verify with a JUnit report, release and push; a wrong command is refused")
    func commands() async throws {
        let registry = try LocalRegistry()
        try await withRecipeFixture("action") { fixture in
            let recipe = fixture.scratch.write("recipe.yaml", EngineFixture.recipe(fixture.name, base: "    probes: [\"test -d /workspace\"]\n"))
            let plan = try planRecipe(EngineFixture.recipe(fixture.name, base: "    probes: [\"test -d /workspace\"]\n"), in: Scratch())
            let base = try #require(plan.layer(named: "base"))

            let build = try Self.runStep(["RECIPE": recipe, "COMMAND": "build", "CACHE": "\(registry.address)/Team-Cache"], in: fixture.scratch)
            #expect(build.status == 0, "\(build.stdout)\(build.stderr)")
            #expect(build.stdout.contains("imagegen build \(recipe) --cache \(registry.address)/team-cache --cache-mode readwrite --pull"))
            #expect(try registry.tags("team-cache/\(base.imageName.path)") == [base.tag.value], "the layer is in the cache, under the lowercased name")

            // A pull request from a fork reads the cache and pushes nothing.
            await EngineFixture.removeImages(ofRecipe: fixture.name, on: fixture.engine)
            let fork = try Self.runStep(["RECIPE": recipe, "COMMAND": "build", "CACHE": "\(registry.address)/other-cache", "FORK": "true"], in: fixture.scratch)
            #expect(fork.status == 0, "\(fork.stderr)")
            #expect(fork.stdout.contains("--cache-mode read"))
            #expect(try registry.tags("other-cache/\(base.imageName.path)").isEmpty)

            let verify = try Self.runStep(["RECIPE": recipe, "COMMAND": "verify", "REPORT": "reports/verify.xml"], in: fixture.scratch)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            let report = try String(contentsOfFile: fixture.scratch.url("reports/verify.xml"), encoding: .utf8)
            #expect(report.contains("<testsuites") && report.contains("failures=\"0\""))

            let release = try Self.runStep(["RECIPE": recipe, "COMMAND": "release", "VERSION": "1.2.3", "REGISTRY": "\(registry.address)/Team"], in: fixture.scratch)
            #expect(release.status == 0, "\(release.stdout)\(release.stderr)")
            #expect(try registry.tags("team/\(base.imageName.path)").isSuperset(of: ["1.2.3", "1.2", "1", "latest"]))
            for tag in ["1.2.3", "1.2", "1", "latest"] { fixture.removeAfterwards("\(registry.address)/team/\(base.imageName.path):\(tag)") }
            for tag in ["1.2.3", "1.2", "1", "latest"] { fixture.removeAfterwards("\(base.imageName.path):\(tag)") }

            // diff: the release against the current build, in the job summary.
            let diff = try Self.runStep(["RECIPE": recipe, "COMMAND": "diff", "DIFF_FROM": "1.2.3", "REGISTRY": "\(registry.address)/Team"], in: fixture.scratch)
            #expect(diff.status == 0, "\(diff.stdout)\(diff.stderr)")
            #expect(fixture.scratch.read("step-summary.md")?.contains("### imagegen diff `1.2.3` → `current`") == true, "\(diff.stdout)")
            let noSide = try Self.runStep(["RECIPE": recipe, "COMMAND": "diff"], in: fixture.scratch)
            #expect(noSide.status == 2 && noSide.stdout.contains("::error::diff needs diff-from"))

            let wrong = try Self.runStep(["RECIPE": recipe, "COMMAND": "deploy"], in: fixture.scratch)
            #expect(wrong.status == 2)
            #expect(wrong.stdout.contains("::error::command must be build, verify, release or diff"))
        }
    }
}
