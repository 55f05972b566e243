import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// The build context tar: deterministic bytes, normalized headers, and hashes that move only
/// when an input does.
@Suite("Build context and content hash")
struct ContextArchiveTests {
    static let recipe =
        minimalRecipe + """
                copy:
                  - {src: files/tool.sh, dest: /usr/local/bin/tool}
                context: {dir: ctx}

            """

    /// Writes the same tree, creating files in the given order, then sets every mtime to `mtime`.
    func makeTree(in scratch: Scratch, order: [Int], mtime: Int) {
        let files: [(String, String, Bool)] = [
            ("ctx/manifest.yaml", "docs: [docs/]\nprompts: [prompts/]\ndata: [data/]\n", false),
            ("ctx/docs/guide.md", "# Guide\n", false),
            ("ctx/docs/Zebra.md", "z\n", false),
            ("ctx/docs/älter.md", "non-ASCII name\n", false),
            ("ctx/prompts/system.md", "be careful\n", false),
            ("ctx/data/" + String(repeating: "long-directory-name/", count: 6) + "deep.txt", "deep\n", false),
            ("files/tool.sh", "#!/bin/sh\necho tool\n", true),
        ]
        for index in order {
            let (path, text, executable) = files[index]
            scratch.write(path, text, executable: executable)
        }
        scratch.symlink("ctx/docs/latest.md", to: "guide.md")
        chmod(scratch.url("ctx/docs/guide.md"), 0o600)
        for path in FileManager.default.subpaths(atPath: scratch.path) ?? [] {
            var times = [timespec(tv_sec: mtime, tv_nsec: 0), timespec(tv_sec: mtime, tv_nsec: 0)]
            utimensat(AT_FDCWD, scratch.url(path), &times, AT_SYMLINK_NOFOLLOW)
        }
        scratch.write("recipe.yaml", Self.recipe)
    }

    func tar(_ layer: LayerPlan) throws -> [UInt8] {
        try TarWriter(entries: layer.entries).collect()
    }

    @Test("same inputs give byte-identical tars and hashes from any path, file order and mtime")
    func determinism() throws {
        let first = Scratch("checkout-one"), second = Scratch("another-checkout-path")
        makeTree(in: first, order: [0, 1, 2, 3, 4, 5, 6], mtime: 1_000_000)
        makeTree(in: second, order: [6, 5, 4, 3, 2, 1, 0], mtime: 1_700_000_000)
        let (planA, diagnosticsA) = Planner.plan(recipeAt: first.url("recipe.yaml"), cache: FileDigestCache(file: nil))
        let (planB, _) = Planner.plan(recipeAt: second.url("recipe.yaml"), cache: FileDigestCache(file: nil))
        let a = try #require(planA?.layers.first, "\(diagnosticsA.sorted)")
        let b = try #require(planB?.layers.first)
        #expect(a.contentHash == b.contentHash)
        #expect(a.inputs == b.inputs)
        let tarA = try tar(a), tarB = try tar(b)
        #expect(tarA == tarB)
        // And a second run over the same checkout.
        #expect(try tar(a) == tarA)
    }

    @Test("headers are normalized: sorted, mtime 0, root without names, fixed modes, links kept")
    func headers() throws {
        let scratch = Scratch()
        makeTree(in: scratch, order: Array(0..<7), mtime: 1_234_567)
        let (plan, _) = Planner.plan(recipeAt: scratch.url("recipe.yaml"), cache: FileDigestCache(file: nil))
        let layer = try #require(plan?.layers.first)
        let reader = try ArchiveReader(bytes: try tar(layer))
        var entries: [ArchiveReader.Entry] = []
        while let entry = try reader.next() {
            entries.append(entry)
            _ = try reader.readAll()
        }
        let paths = entries.map { $0.path.hasSuffix("/") ? String($0.path.dropLast()) : $0.path }
        #expect(paths == paths.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) })
        #expect(paths.contains("Dockerfile"))
        #expect(paths.contains("context/docs/älter.md"))
        #expect(paths.contains { $0.hasSuffix("deep.txt") && $0.utf8.count > 100 })
        for entry in entries {
            #expect(entry.mtime == 0)
            #expect(entry.uid == 0 && entry.gid == 0)
            #expect((entry.userName ?? "").isEmpty && (entry.groupName ?? "").isEmpty)
            switch entry.kind {
            case .directory: #expect(entry.mode == 0o755)
            case .file: #expect(entry.mode == (entry.path.hasSuffix("tool.sh") ? 0o755 : 0o644), "\(entry.path)")
            case .symlink: #expect(entry.linkTarget == "guide.md")
            default: Issue.record("unexpected entry \(entry.path)")
            }
        }
        // The 0600 file was normalized.
        #expect(entries.first { $0.path == "context/docs/guide.md" }?.mode == 0o644)
    }

    @Test("the tar streams in chunks and matches --context-out from the CLI")
    func cliContextOut() throws {
        let scratch = Scratch()
        makeTree(in: scratch, order: Array(0..<7), mtime: 42)
        let (plan, _) = Planner.plan(recipeAt: scratch.url("recipe.yaml"), cache: FileDigestCache(file: nil))
        let layer = try #require(plan?.layers.first)
        let result = try run(
            imagegenExecutable, ["generate", "recipe.yaml", "--layer", "base", "--context-out", "out/context.tar", "--out", "gen"],
            directory: scratch.path, environment: ["IMAGEGEN_CACHE_DIR": scratch.url("cache")])
        #expect(result.status == 0, "\(result.stderr)")
        let written = try #require(FileManager.default.contents(atPath: scratch.url("out/context.tar")))
        #expect(Array(written) == (try tar(layer)))
        // No temporary file is left next to it.
        #expect(try FileManager.default.contentsOfDirectory(atPath: scratch.url("out")) == ["context.tar"])
    }

    @Test("one changed byte changes that layer's hash and every descendant's, and no ancestor's")
    func cascade() throws {
        let scratch = Scratch()
        scratch.write("files/a.txt", "alpha\n")
        scratch.write("files/b.txt", "beta\n")
        scratch.write("files/c.txt", "gamma\n")
        let recipe =
            minimalRecipe + """
                  middle:
                    from: base
                    copy: [{src: files/b.txt, dest: /b.txt}]
                  top:
                    from: middle
                    copy: [{src: files/c.txt, dest: /c.txt}]
                  sibling:
                    from: base
                    copy: [{src: files/a.txt, dest: /a.txt}]

                """
        func hashes() throws -> [String: String] {
            let (plan, diagnostics) = RecipeTestSupport.plan(recipe, in: scratch)
            let layers = try #require(plan?.layers, "\(diagnostics.sorted)")
            return Dictionary(uniqueKeysWithValues: layers.map { ($0.name, $0.contentHash.hex) })
        }
        let before = try hashes()
        #expect(Set(before.values).count == 4)
        scratch.write("files/b.txt", "betA\n")
        let after = try hashes()
        #expect(after["base"] == before["base"])
        #expect(after["sibling"] == before["sibling"])
        #expect(after["middle"] != before["middle"])
        #expect(after["top"] != before["top"])
        // Mode counts too: making the file executable is a change.
        scratch.write("files/b.txt", "betA\n", executable: true)
        let executable = try hashes()
        #expect(executable["middle"] != after["middle"])
        #expect(executable["base"] == after["base"])
    }

    @Test("the hash covers args, parent, Dockerfile and format, not the checkout path")
    func hashInputs() throws {
        let scratch = Scratch()
        let recipe = """
            recipe: demo
            args: {GREETING: hello, UNUSED: x}
            layers:
              base:
                from: imagegen-test/busybox:1
                distro: busybox
                user: {name: dev, uid: 1000}
                run: ["echo ${GREETING} > /greeting"]
            """
        let (plan, _) = RecipeTestSupport.plan(recipe, in: scratch)
        let layer = try #require(plan?.layers.first)
        #expect(layer.inputs["args"] == ["GREETING": "hello"])
        #expect(layer.inputs["format"] == .string(LayerInputs.format))
        #expect(layer.inputs["base"]?["reference"] == "imagegen-test/busybox:1")
        #expect(layer.inputs["dockerfile"]?["sha256"]?.stringValue == sha256Hex(DockerfileRenderer.hashedBytes(layer.dockerfile)))
        #expect(layer.dockerfile.hasPrefix("# Generated by imagegen from recipe.yaml") && DockerfileRenderer.hashedBytes(layer.dockerfile).count < layer.dockerfile.utf8.count)
        #expect(!layer.inputs.canonical.contains(scratch.path))
        let (changedArg, _) = RecipeTestSupport.plan(recipe, in: scratch, overrides: ["GREETING": "bye"])
        #expect(changedArg?.layers.first?.contentHash != layer.contentHash)
        let (unusedArg, _) = RecipeTestSupport.plan(recipe, in: scratch, overrides: ["UNUSED": "y"])
        #expect(unusedArg?.layers.first?.contentHash == layer.contentHash)
    }
}
