import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// Every validation error with the exact line and column it is reported at.
@Suite("Recipe validation")
struct ValidationTests {
    @Test("a valid recipe has no diagnostics")
    func validRecipe() {
        let scratch = Scratch()
        let (plan, diagnostics) = RecipeTestSupport.plan(minimalRecipe, in: scratch)
        #expect(diagnostics.isEmpty, "\(diagnostics.sorted)")
        #expect(plan?.layers.map(\.name) == ["base"])
    }

    @Test("cache: is read and checked at its line and column; it is not a hash input")
    func cacheKey() throws {
        let body = minimalRecipe.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")
        let scratch = Scratch()
        let (plan, found) = RecipeTestSupport.plan("recipe: demo\ncache: {registry: 127.0.0.1:5000/team/cache, mode: read}\n" + body, in: scratch)
        #expect(found.isEmpty, "\(found.sorted)")
        let cache = try #require(plan?.recipe.recipe.cache?.value)
        #expect(cache.host == "127.0.0.1:5000" && cache.namespace == "team/cache" && cache.mode == .read)
        #expect(cache.repository(of: try Repository(parsing: "demo-base")).description == "127.0.0.1:5000/team/cache/demo-base")
        let (plain, _) = RecipeTestSupport.plan(minimalRecipe, in: Scratch())
        #expect(plan?.layers.first?.contentHash == plain?.layers.first?.contentHash)

        expectDiagnostic(diagnostics(for: "recipe: demo\ncache: {registry: just-a-name}\n" + body), line: 2, column: 19, contains: "must be REGISTRY[/NAMESPACE]")
        expectDiagnostic(
            diagnostics(for: "recipe: demo\ncache:\n  registry: ghcr.io/x\n  mode: write\n" + body), line: 4, column: 9, contains: "cache.mode 'write' must be read or readwrite")
        expectDiagnostic(diagnostics(for: "recipe: demo\ncache: {mode: read}\n" + body), line: 2, column: 8, contains: "cache needs a 'registry'")
        expectDiagnostic(diagnostics(for: "recipe: demo\ncache: {registy: ghcr.io/x}\n" + body), line: 2, column: 9, contains: "did you mean 'registry'?")
    }

    @Test("malformed YAML is reported where libyaml stops")
    func malformedYAML() {
        let yaml = """
            recipe: demo
            layers:
              base:
                from: [unclosed
                user: x
            """
        let diagnostics = diagnostics(for: yaml)
        #expect(diagnostics.errors.count == 1)
        let error = diagnostics.errors.first
        #expect(error?.message.hasPrefix("invalid YAML:") == true)
        #expect(error?.location.line == 5)
    }

    @Test("a tab in indentation is a syntax error with its position")
    func tabIndentation() {
        let diagnostics = diagnostics(for: "recipe: demo\nlayers:\n\tbase: {}\n")
        expectDiagnostic(diagnostics, line: 3, column: 1, contains: "invalid YAML")
    }

    @Test("an unknown key suggests the closest known one")
    func unknownKey() {
        let yaml = minimalRecipe + "    pakages: [git]\n"
        expectDiagnostic(diagnostics(for: yaml), line: 8, column: 5, contains: "unknown key 'pakages' in layer 'base'; did you mean 'packages'?")
    }

    @Test("an unknown top-level key suggests too")
    func unknownRootKey() {
        let yaml = "recipe: demo\nlabel: {}\n" + minimalRecipe.split(separator: "\n").dropFirst().joined(separator: "\n")
        expectDiagnostic(diagnostics(for: yaml), line: 2, column: 1, contains: "did you mean 'labels'?")
    }

    @Test("wrong types name what was expected and what was found")
    func wrongTypes() {
        let yaml = """
            recipe: demo
            layers:
              base:
                from: imagegen-test/busybox:1
                distro: busybox
                packages: git
                user: {name: dev, uid: "1000"}
                env: [A]
                cmd: /bin/sh
            """
        let diagnostics = diagnostics(for: yaml)
        expectDiagnostic(diagnostics, line: 6, column: 15, contains: "packages must be a list, found a string")
        expectDiagnostic(diagnostics, line: 7, column: 28, contains: "user.uid must be an integer, found a string")
        expectDiagnostic(diagnostics, line: 8, column: 10, contains: "env must be a mapping, found a list")
        expectDiagnostic(diagnostics, line: 9, column: 10, contains: "cmd must be a list (exec form)")
    }

    @Test("a from: that names no layer and is not an image reference")
    func badFrom() {
        let yaml =
            minimalRecipe + """
                  dev:
                    from: Base Layer
                """
        expectDiagnostic(diagnostics(for: yaml), line: 9, column: 11, contains: "from: 'Base Layer' names no layer and is not a valid image reference")
    }

    @Test("a misspelt layer name in from: is caught and a layer suggested")
    func misspeltLayer() {
        let yaml =
            minimalRecipe + """
                  dev:
                    from: bsae
                """
        expectDiagnostic(diagnostics(for: yaml), line: 9, column: 11, contains: "did you mean the layer 'base'?")
    }

    @Test("an unpinned base image is refused", arguments: ["debian", "debian:latest"])
    func unpinned(reference: String) {
        let yaml = "recipe: demo\nlayers:\n  base:\n    from: \(reference)\n"
        expectDiagnostic(diagnostics(for: yaml), line: 4, column: 11, contains: "pin the base image")
    }

    @Test("a dependency cycle is reported at every from: in it")
    func cycle() {
        let yaml =
            minimalRecipe + """
                  a:
                    from: c
                  b:
                    from: a
                  c:
                    from: b
                """
        let diagnostics = diagnostics(for: yaml)
        expectDiagnostic(diagnostics, line: 9, column: 11, contains: "dependency cycle: a → c → b → a")
        expectDiagnostic(diagnostics, line: 11, column: 11, contains: "dependency cycle")
        expectDiagnostic(diagnostics, line: 13, column: 11, contains: "dependency cycle")
    }

    @Test("a layer built from itself")
    func selfCycle() {
        let yaml = minimalRecipe + "  loop:\n    from: loop\n"
        expectDiagnostic(diagnostics(for: yaml), line: 9, column: 11, contains: "built from itself")
    }

    @Test("a duplicate layer name is reported at its second spelling")
    func duplicateLayer() {
        let yaml =
            minimalRecipe + """
                  base:
                    from: imagegen-test/busybox:2
                """
        expectDiagnostic(diagnostics(for: yaml), line: 8, column: 3, contains: "duplicate key 'base' in the same mapping (first defined at line 3)")
    }

    @Test("a duplicate key hides no other mistake: each duplicate (block and flow) is reported and validation goes on")
    func duplicatesAndOthers() {
        let yaml = """
            recipe: demo
            layers:
              base:
                from: imagegen-test/busybox:1
                distro: busybox
                user: {name: dev, uid: 1000, uid: 1001}
                workdir: /workspace
                workdir: /other
                packges: [jq]
              tool:
                from: bse
            """
        let found = diagnostics(for: yaml)
        expectDiagnostic(found, line: 6, column: 34, contains: "duplicate key 'uid' in the same mapping (first defined at line 6); this one is ignored")
        expectDiagnostic(found, line: 8, column: 5, contains: "duplicate key 'workdir' in the same mapping (first defined at line 7)")
        expectDiagnostic(found, line: 9, column: 5, contains: "unknown key 'packges'")
        expectDiagnostic(found, line: 11, column: 11, contains: "did you mean the layer 'base'?")
        #expect(found.errors.count == 4, "\(found.sorted)")
    }

    @Test("an unquoted ${ARG} in a flow mapping says to quote it")
    func flowArgHint() {
        let yaml = """
            recipe: demo
            args: {NAME: dev}
            layers:
              base:
                from: imagegen-test/busybox:1
                user: {name: ${NAME}, uid: 1000}
            """
        expectDiagnostic(diagnostics(for: yaml), line: 6, column: 19, contains: #"inside { } or [ ], quote a value with an arg: "${NAME}""#)
    }

    @Test(
        "a bad semantic version",
        arguments: [
            ("1.02.3", "leading zero"), ("1.2", "expected MAJOR.MINOR.PATCH"), ("1.2.3-", "empty identifier"), ("v1.2.3", "major version"),
        ])
    func badVersion(version: String, reason: String) {
        let yaml = "recipe: demo\nversion: \(version)\n" + minimalRecipe.split(separator: "\n").dropFirst().joined(separator: "\n")
        expectDiagnostic(diagnostics(for: yaml), line: 2, column: 10, contains: reason)
    }

    @Test("sizes: units parse, words do not")
    func sizes() {
        let yaml =
            minimalRecipe + """
                    policy:
                      max-size: 200MB
                      max-added: 1.5GiB
                      max-waste: big
                """
        let scratch = Scratch()
        let (_, diagnostics) = plan(yaml, in: scratch)
        expectDiagnostic(diagnostics, line: 11, column: 18, contains: "invalid size 'big'")
        #expect(diagnostics.errors.count == 1)
        let (recipe, _) = RecipeLoader.load(path: scratch.url("recipe.yaml"))
        #expect(recipe?.layers.first?.policy.maxSize?.value == ByteSize(bytes: 200_000_000))
        #expect(recipe?.layers.first?.policy.maxAdded?.value == ByteSize(bytes: 1_610_612_736))
    }

    @Test("a package name that could inject shell", arguments: ["git; rm -rf /", "$(curl x)", "a|b", "`id`", "-rf"])
    func packageInjection(name: String) {
        let yaml =
            minimalRecipe.replacingOccurrences(of: "distro: busybox", with: "distro: alpine")
            + "    packages: ['\(name)']\n"
        let diagnostics = diagnostics(for: yaml)
        expectDiagnostic(diagnostics, line: 8, column: 16, contains: "package name '\(name)'")
    }

    @Test("an undefined ${VAR} is reported at the $ with a hint")
    func undefinedArg() {
        let yaml = """
            recipe: demo
            args:
              RELEASE: bookworm
            layers:
              base:
                from: debian:${RELEAS}-slim
                run: ["echo ${HOME}", "echo $${HOME} $PATH"]
            """
        let diagnostics = diagnostics(for: yaml)
        expectDiagnostic(diagnostics, line: 6, column: 18, contains: "undefined arg '${RELEAS}'; did you mean 'RELEASE'?")
        expectDiagnostic(diagnostics, line: 7, column: 17, contains: "undefined arg '${HOME}'; declare it under 'args:', or write $${HOME}")
        #expect(diagnostics.errors.count == 2)
    }

    @Test("args substitute, and --arg overrides them")
    func argSubstitution() throws {
        let yaml = """
            recipe: demo
            args:
              RELEASE: bookworm
            layers:
              base:
                from: debian:${RELEASE}-slim
                run: ["echo $${HOME}"]
            """
        let scratch = Scratch()
        let (plan, diagnostics) = RecipeTestSupport.plan(yaml, in: scratch, overrides: ["RELEASE": "trixie"])
        #expect(!diagnostics.hasErrors, "\(diagnostics.sorted)")
        let layer = try #require(plan?.layers.first)
        #expect(layer.from == "debian:trixie-slim")
        #expect(layer.dockerfile.contains("RUN echo ${HOME}"))
        #expect(layer.layer.args == ["RELEASE": "trixie"])
        let (_, unknown) = RecipeTestSupport.plan(yaml, in: scratch, overrides: ["NOPE": "1"])
        #expect(unknown.errors.contains { $0.message.contains("--arg NOPE: the recipe declares no arg 'NOPE'") })
    }

    @Test("context paths: absolute and .. are refused where written")
    func contextPaths() {
        let absolute = minimalRecipe + "    context: {dir: /etc}\n"
        expectDiagnostic(diagnostics(for: absolute), line: 8, column: 20, contains: "context.dir '/etc' is absolute")
        let parent = minimalRecipe + "    context: {dir: ../outside}\n"
        expectDiagnostic(diagnostics(for: parent), line: 8, column: 20, contains: "context.dir '../outside' contains '..'")
        let copy = minimalRecipe + "    copy:\n      - {src: a/../../b, dest: /b}\n"
        expectDiagnostic(diagnostics(for: copy), line: 9, column: 15, contains: "copy.src 'a/../../b' contains '..'")
    }

    @Test("a symlink that leaves the context directory is refused; one inside is kept")
    func symlinks() throws {
        let scratch = Scratch()
        scratch.write("ctx/manifest.yaml", "docs: [docs/a.md, docs/b.md]\n")
        scratch.write("ctx/docs/a.md", "a\n")
        scratch.symlink("ctx/docs/b.md", to: "a.md")
        scratch.symlink("ctx/docs/escape", to: "../../secret")
        scratch.symlink("ctx/docs/absolute", to: "/etc/passwd")
        let (_, diagnostics) = plan(minimalRecipe + "    context: {dir: ctx}\n", in: scratch)
        let messages = diagnostics.errors.map(\.description)
        #expect(
            messages.contains { $0.hasSuffix("ctx/docs/escape: error: symlink to '../../secret' points outside the directory; only links that stay inside the directory are kept") }
        )
        #expect(messages.contains { $0.contains("ctx/docs/absolute: error: symlink to '/etc/passwd' is absolute") })
        #expect(!messages.contains { $0.contains("docs/b.md") })
    }

    @Test("a manifest entry naming a missing file, at its line and column")
    func manifestMissing() {
        let yaml = minimalRecipe + "    context: {dir: ctx}\n"
        let diagnostics = diagnostics(
            for: yaml,
            files: [
                "ctx/manifest.yaml": "docs:\n  - docs/here.md\n  - docs/gone.md\n",
                "ctx/docs/here.md": "here\n",
            ])
        expectDiagnostic(diagnostics, line: 3, column: 5, contains: "manifest lists 'docs/gone.md', which is not in the context directory")
        #expect(diagnostics.errors.first?.location.file.hasSuffix("ctx/manifest.yaml") == true)
    }

    @Test("a context without a manifest, and unlisted files")
    func manifestAbsent() {
        let yaml = minimalRecipe + "    context: {dir: ctx}\n"
        expectDiagnostic(diagnostics(for: yaml, files: ["ctx/docs/a.md": "a"]), line: 8, column: 20, contains: "has no manifest.yaml")
        let unlisted = diagnostics(for: yaml, files: ["ctx/manifest.yaml": "docs: []\n", "ctx/docs/a.md": "a"])
        #expect(unlisted.warnings.contains { $0.message.contains("'docs/a.md' is in the context but not listed") })
        #expect(!unlisted.hasErrors)
    }

    @Test("unknown toolsets, and toolsets nobody uses")
    func toolsets() {
        let yaml =
            minimalRecipe.replacingOccurrences(of: "distro: busybox", with: "distro: alpine") + """
                    toolsets: [modern-cl]
                toolsets:
                  modern-cli:
                    packages: [ripgrep]
                  unused:
                    packages: [jq]
                """
        let diagnostics = diagnostics(for: yaml)
        expectDiagnostic(diagnostics, line: 8, column: 16, contains: "unknown toolset 'modern-cl'; did you mean 'modern-cli'?")
        expectDiagnostic(diagnostics, severity: .warning, line: 12, column: 3, contains: "toolset 'unused' is not used")
    }

    @Test("missing required keys")
    func missingKeys() {
        let diagnostics = diagnostics(for: "recipe: demo\nlayers:\n  base:\n    user: {name: dev}\n")
        expectDiagnostic(diagnostics, line: 3, column: 3, contains: "layer 'base' has no 'from'")
        expectDiagnostic(diagnostics, line: 4, column: 11, contains: "user needs a 'uid'")
        let noLayers = RecipeTestSupport.diagnostics(for: "recipe: demo\n")
        expectDiagnostic(noLayers, line: 1, column: 1, contains: "missing required key 'layers'")
    }

    @Test("uid 0 and a root-only image are flagged")
    func rootUser() {
        let yaml = minimalRecipe.replacingOccurrences(of: "uid: 1000", with: "uid: 0")
        expectDiagnostic(diagnostics(for: yaml), line: 6, column: 28, contains: "user.uid 0 is root")
        let noUser = "recipe: demo\nlayers:\n  base:\n    from: imagegen-test/busybox:1\n    distro: busybox\n"
        expectDiagnostic(diagnostics(for: noUser), severity: .warning, line: 3, column: 3, contains: "runs as the base image's user")
    }

    @Test("every problem of a recipe is reported in one run")
    func allAtOnce() {
        let yaml = """
            recipe: Demo
            version: 1.0
            layers:
              base:
                from: imagegen-test/busybox:1
                distro: busybox
                user: {name: dev, uid: 1000}
                workdir: relative
                policy: {max-size: huge}
              dev:
                from: nowhere
                packages: ["a b"]
            """
        let diagnostics = diagnostics(for: yaml)
        #expect(diagnostics.errors.count == 6, "\(diagnostics.sorted.map(\.description))")
        expectDiagnostic(diagnostics, line: 1, column: 9, contains: "recipe name 'Demo'")
        expectDiagnostic(diagnostics, line: 2, column: 10, contains: "invalid semantic version '1.0'")
        expectDiagnostic(diagnostics, line: 8, column: 14, contains: "workdir 'relative' must be an absolute path")
        expectDiagnostic(diagnostics, line: 9, column: 24, contains: "invalid size 'huge'")
        expectDiagnostic(diagnostics, line: 11, column: 11, contains: "from: 'nowhere' names no layer and has no tag")
        expectDiagnostic(diagnostics, line: 12, column: 16, contains: "package name 'a b'")
    }
}
