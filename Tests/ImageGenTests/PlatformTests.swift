import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// `platforms:`: parsing, narrowing, one plan and one content hash per platform, one Dockerfile.
@Suite("platforms")
struct PlatformTests {
    @Test(
        "platform names parse as Docker spells them; others are refused with a hint",
        arguments: [
            ("linux/amd64", "linux/amd64"), ("linux/arm64", "linux/arm64"), ("linux/arm/v7", "linux/arm/v7"), ("linux/arm64/v8", "linux/arm64/v8"),
        ])
    func parses(text: String, expected: String) throws {
        #expect(try Platform(parsing: text).description == expected)
    }

    @Test(
        "bad platforms",
        arguments: [
            ("amd64", "must be os/architecture"), ("linux/x86_64", "did you mean linux/amd64"), ("linux/aarch64", "did you mean linux/arm64"),
            ("windows/amd64", "only linux"), ("linux/amd64/v9", "has none"), ("linux/arm/v9", "v6, v7, v8"), ("linux//", "must be"),
        ])
    func refuses(text: String, message: String) {
        #expect(throws: ValueError.self) { try Platform(parsing: text) }
        do { _ = try Platform(parsing: text) } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test("errors in platforms: are reported at their line and column")
    func diagnosticsAtLocations() {
        let twice = diagnostics(
            for: "recipe: demo\nplatforms: [linux/amd64, linux/amd64]\n"
                + minimalRecipe.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n"))
        expectDiagnostic(twice, line: 2, column: 26, contains: "linux/amd64 is listed twice")

        let unknown = diagnostics(
            for: "recipe: demo\nplatforms: [linux/x86_64]\n" + minimalRecipe.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n"))
        expectDiagnostic(unknown, line: 2, column: 13, contains: "did you mean linux/amd64")

        let empty = diagnostics(for: "recipe: demo\nplatforms: []\n" + minimalRecipe.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n"))
        expectDiagnostic(empty, line: 2, column: 12, contains: "platforms is empty")
    }

    @Test("a layer narrows its parent's platforms and never widens them")
    func narrowing() {
        let widened = diagnostics(
            for: """
                recipe: demo
                platforms: [linux/amd64]
                layers:
                  base:
                    from: imagegen-test/busybox:1
                    distro: busybox
                  child:
                    from: base
                    platforms: [linux/amd64, linux/arm64]

                """)
        expectDiagnostic(widened, line: 9, column: 30, contains: "linux/arm64 is not among the platforms of layer 'base' (linux/amd64)")

        let onSingle = diagnostics(
            for: """
                recipe: demo
                layers:
                  base:
                    from: imagegen-test/busybox:1
                    distro: busybox
                  child:
                    from: base
                    platforms: [linux/arm64]

                """)
        expectDiagnostic(onSingle, line: 8, column: 17, contains: "built for the engine's own platform only")
    }

    @Test("each layer is planned once per platform, with its own hash; a narrowed layer only for its own; one Dockerfile per layer")
    func plansPerPlatform() throws {
        let scratch = Scratch()
        let (plan, diagnostics) = RecipeTestSupport.plan(SampleRecipes.twoPlatforms, in: scratch)
        let built = try #require(plan, "\(diagnostics.sorted)")
        let amd64 = Platform(os: "linux", architecture: "amd64"), arm64 = Platform(os: "linux", architecture: "arm64")
        #expect(built.isMultiPlatform)
        #expect(built.platforms == [amd64, arm64])
        #expect(built.layers.map(\.displayName) == ["base@linux/amd64", "base@linux/arm64", "tools@linux/amd64", "tools@linux/arm64", "native@linux/amd64"])
        #expect(built.layerNames == ["base", "tools", "native"])
        #expect(built.forPlatform(arm64).layers.map(\.name) == ["base", "tools"])

        let base64 = try #require(built.layer(named: "base", platform: amd64)), baseArm = try #require(built.layer(named: "base", platform: arm64))
        #expect(base64.contentHash != baseArm.contentHash)
        #expect(base64.dockerfile == baseArm.dockerfile)
        // The child's FROM is a build arg: its default the first platform's parent, each build passes its own.
        let tools64 = try #require(built.layer(named: "tools", platform: amd64)), toolsArm = try #require(built.layer(named: "tools", platform: arm64))
        #expect(tools64.dockerfile == toolsArm.dockerfile)
        #expect(tools64.dockerfile.contains("ARG IMAGEGEN_FROM=demo-base:\(base64.tag)\nFROM ${IMAGEGEN_FROM}\n"))
        #expect(toolsArm.from == "demo-base:\(baseArm.tag)")
        #expect(tools64.dockerfile.hasSuffix("ARG IMAGEGEN_FROM\nLABEL org.opencontainers.image.base.name=\"${IMAGEGEN_FROM}\"\n"))
        #expect(tools64.contentHash != toolsArm.contentHash)

        // generated/: one Dockerfile and one inputs.json per layer, the latter by platform.
        let files = GeneratedDirectory.files(for: built)
        let inputs = try JSONValue(parsing: try #require(files["demo/base/inputs.json"]))
        #expect(inputs["platforms"]?["linux/amd64"]?["contentHash"] == .string(base64.contentHash.hex))
        #expect(inputs["platforms"]?["linux/arm64"]?["contentHash"] == .string(baseArm.contentHash.hex))
        #expect(inputs["platforms"]?["linux/arm64"]?["inputs"]?["platform"] == .string("linux/arm64"))
        #expect(files.keys.filter { $0.hasSuffix("Dockerfile") }.sorted() == ["demo/base/Dockerfile", "demo/native/Dockerfile", "demo/tools/Dockerfile"])
    }

    @Test("a recipe without platforms plans as before: no platform in its hash inputs, FROM as written")
    func withoutPlatforms() throws {
        let scratch = Scratch()
        let single = SampleRecipes.twoPlatforms.replacingOccurrences(of: "platforms: [linux/amd64, linux/arm64]\n", with: "")
            .replacingOccurrences(of: "    platforms: [linux/amd64]\n", with: "")
        let (plan, diagnostics) = RecipeTestSupport.plan(single, in: scratch)
        let built = try #require(plan, "\(diagnostics.sorted)")
        #expect(!built.isMultiPlatform)
        #expect(built.layers.map(\.displayName) == ["base", "tools", "native"])
        let tools = try #require(built.layer(named: "tools"))
        #expect(tools.inputs["platform"] == nil)
        #expect(!tools.dockerfile.contains("IMAGEGEN_FROM"))
        #expect(tools.dockerfile.contains("\nFROM demo-base:\(try #require(built.layer(named: "base")).tag)\n"))
    }
}
