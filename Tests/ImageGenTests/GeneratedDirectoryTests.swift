import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

@Suite("generate and plan --explain")
struct GeneratedDirectoryTests {
    static let recipe = """
        recipe: demo
        args: {MOTD: hello}
        layers:
          base:
            from: imagegen-test/busybox:1
            distro: busybox
            user: {name: dev, uid: 1000}
            workdir: /workspace
          tools:
            from: base
            copy: [{src: files/tool.sh, dest: /usr/local/bin/tool}]
            run: ["echo ${MOTD} > /etc/motd"]
          context:
            from: tools
            context: {dir: ctx}

        """

    func setUp() -> Scratch {
        let scratch = Scratch()
        scratch.write("recipe.yaml", Self.recipe)
        scratch.write("files/tool.sh", "#!/bin/sh\necho tool\n", executable: true)
        scratch.write("ctx/manifest.yaml", "docs: [docs/guide.md]\n")
        scratch.write("ctx/docs/guide.md", "# Guide\n")
        return scratch
    }

    func imagegen(_ arguments: [String], in scratch: Scratch) throws -> (status: Int32, stdout: String, stderr: String) {
        try run(imagegenExecutable, arguments, directory: scratch.path, environment: ["IMAGEGEN_CACHE_DIR": scratch.url(".cache")])
    }

    func snapshot(_ directory: String) -> [String: Data] {
        var files: [String: Data] = [:]
        for path in FileManager.default.subpaths(atPath: directory) ?? [] {
            if let data = FileManager.default.contents(atPath: directory + "/" + path) { files[path] = data }
        }
        return files
    }

    @Test("generate writes each layer and --check passes, then catches every kind of staleness")
    func generateAndCheck() throws {
        let scratch = setUp()
        let written = try imagegen(["generate", "recipe.yaml"], in: scratch)
        #expect(written.status == 0, "\(written.stderr)")
        #expect(
            Set(snapshot(scratch.url("generated")).keys) == [
                "demo/base/Dockerfile", "demo/base/inputs.json", "demo/tools/Dockerfile", "demo/tools/inputs.json",
                "demo/context/Dockerfile", "demo/context/inputs.json",
            ])
        #expect(try imagegen(["generate", "--check", "recipe.yaml"], in: scratch).status == 0)

        scratch.write("generated/demo/base/Dockerfile", "FROM tampered:1\n")
        scratch.write("generated/demo/old-layer/Dockerfile", "FROM gone:1\n")
        try FileManager.default.removeItem(atPath: scratch.url("generated/demo/tools/inputs.json"))
        let stale = try imagegen(["generate", "--check", "recipe.yaml"], in: scratch)
        #expect(stale.status == 1)
        #expect(stale.stdout.contains("changed: generated/demo/base/Dockerfile"))
        #expect(stale.stdout.contains("missing: generated/demo/tools/inputs.json"))
        #expect(stale.stdout.contains("stale (no longer generated): generated/demo/old-layer/Dockerfile"))

        // Regenerating replaces the folder whole: tampering and the removed layer are gone.
        #expect(try imagegen(["generate", "recipe.yaml"], in: scratch).status == 0)
        #expect(try imagegen(["generate", "--check", "recipe.yaml"], in: scratch).status == 0)
        #expect(!FileManager.default.fileExists(atPath: scratch.url("generated/demo/old-layer")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url("generated")) == ["demo"])
    }

    @Test("a failed run leaves the previous generated/ untouched")
    func failedRunTouchesNothing() throws {
        let scratch = setUp()
        #expect(try imagegen(["generate", "recipe.yaml"], in: scratch).status == 0)
        let before = snapshot(scratch.url("generated"))

        // A bad recipe: exit 2, nothing written.
        scratch.write("recipe.yaml", Self.recipe.replacingOccurrences(of: "from: tools", with: "from: toolz"))
        let bad = try imagegen(["generate", "recipe.yaml"], in: scratch)
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("recipe.yaml:14:11: error: from: 'toolz' names no layer"))
        #expect(snapshot(scratch.url("generated")) == before)

        // A secret in the context: exit 2, nothing written.
        scratch.write("recipe.yaml", Self.recipe)
        scratch.write("ctx/docs/guide.md", "# Guide\ntoken: \(FakeSecrets.github)\n")
        #expect(try imagegen(["generate", "recipe.yaml"], in: scratch).status == 2)
        #expect(snapshot(scratch.url("generated")) == before)

        // An output that cannot be written: exit 1, the old output still there.
        scratch.write("ctx/docs/guide.md", "# Guide, edited\n")
        scratch.write("blocked", "a file where a directory should be\n")
        let blocked = try imagegen(["generate", "recipe.yaml", "--out", "blocked/sub"], in: scratch)
        #expect(blocked.status == 1)
        #expect(scratch.read("blocked") == "a file where a directory should be\n")
        #expect(snapshot(scratch.url("generated")) == before)
        #expect(!(try FileManager.default.contentsOfDirectory(atPath: scratch.url("generated"))).contains { $0.hasPrefix(".") })
    }

    @Test("plan --explain names exactly what changed")
    func explain() throws {
        let scratch = setUp()
        #expect(try imagegen(["generate", "recipe.yaml"], in: scratch).status == 0)
        let unchanged = try imagegen(["plan", "--explain", "recipe.yaml"], in: scratch)
        #expect(unchanged.stdout.contains("base: unchanged") && unchanged.stdout.contains("context: unchanged"))

        scratch.write("ctx/docs/guide.md", "# Guide, edited\n")
        scratch.write("ctx/docs/new.md", "new\n")
        let contextChange = try imagegen(["plan", "--explain", "recipe.yaml", "--arg", "MOTD=bonjour"], in: scratch)
        let text = contextChange.stdout
        #expect(text.contains("base: unchanged"))
        #expect(text.contains("tools: changed\n  - arg MOTD changed: \"hello\" → \"bonjour\""))
        #expect(text.contains("  - Dockerfile line 5 removed: RUN echo hello > /etc/motd\n  - Dockerfile line 5 added: RUN echo bonjour > /etc/motd"))
        // The context layer's FROM follows the parent's new tag; that is not listed as a change of its own.
        #expect(!text.contains("FROM demo-tools"))
        #expect(text.contains("context: changed\n  - parent layer 'tools' changed"))
        #expect(text.contains("  - file added: context/docs/new.md"))
        #expect(text.contains("  - content of context/docs/guide.md changed (sha256 "))

        let json = try imagegen(["plan", "--explain", "--format", "json", "recipe.yaml"], in: scratch)
        let document = try JSONValue(parsing: Data(json.stdout.utf8))
        let layers = try #require(document["layers"]?.arrayValue)
        #expect(layers.map { $0["name"]?.stringValue } == ["base", "tools", "context"])
        #expect(layers.map { $0["changed"] } == [.bool(false), .bool(false), .bool(true)])
    }

    @Test("plan prints layers in build order with names, hashes and parents")
    func planOutput() throws {
        let scratch = setUp()
        let result = try imagegen(["plan", "recipe.yaml", "--format", "json"], in: scratch)
        #expect(result.status == 0)
        let document = try JSONValue(parsing: Data(result.stdout.utf8))
        let layers = try #require(document["layers"]?.arrayValue)
        #expect(layers.map { $0["image"]?.stringValue } == ["demo-base", "demo-tools", "demo-context"])
        #expect(layers[0]["parent"] == ["image": "imagegen-test/busybox:1"])
        #expect(layers[1]["parent"] == ["layer": "base"])
        let baseHash = try #require(layers[0]["contentHash"]?.stringValue)
        #expect(layers[1]["from"]?.stringValue == "demo-base:" + baseHash.prefix(12))
        #expect(baseHash.count == 64)
    }
}
