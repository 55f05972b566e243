import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// check-jsonschema (from PyPI) reaches imagegen's verdict on recipes whose mistakes are of shape.
@Suite("Recipe JSON Schema and check-jsonschema")
struct SchemaCrossCheckTests {
    static let valid: [String: String] = [
        "shapes": SampleRecipes.shapes,
        "policies": minimalRecipe + """
                env: {PORT: 8080, DEBUG: true}
                policy:
                  max-size: 250MB
                  max-added: 1048576
                  required-labels: [org.opencontainers.image.source]
                  files:
                    exists: [/workspace, {path: /etc/passwd, mode: "0644", owner: "0:0"}]
                    absent: [/var/lib/apt/lists/*]
                  probe-timeout: 20
                  secrets: false
            toolsets:
              tools:
                packages: [jq]
                probes: ["jq --version"]

            """,
    ]

    /// The format for real families: steps, names, tags, variants (#19).
    static let families: [String: String] = [
        "steps": """
        recipe: fam
        args: {DEBIAN: trixie, UID: "1000"}
        variants: {DEBIAN: [bookworm, trixie]}
        tags: ["v{version}-${DEBIAN}", "${DEBIAN}"]
        layers:
          base:
            from: imagegen-test/busybox:1
            distro: busybox
            image: acme/base
            user: {name: dev, uid: "${UID}", create: true}
            expose: [8080, 53/udp]
            volumes: [/data]
            stopsignal: SIGINT
            shell: ["/bin/sh", "-c"]
          tools:
            from: base
            tags: ["{version}-tools-${DEBIAN}"]
            steps:
              - user: root
              - copy: {src: a, dest: /opt/a, mode: "0644", chown: "1000:1000"}
              - run: |
                  echo one
                  && echo two
              - run: [/bin/true]
              - user: "1000"
              - env: {A: "1"}
              - arg: {V: "2"}
              - label: {team: tools}
              - healthcheck: {command: "true", interval: 5s}
              - cmd: "sleep 1"
            policy: {allow-root: "not really: the last step is 1000"}
          stage:
            from: base
            release: false
            copy: [{from: tools, src: /opt/a, dest: /opt/b}]

        """
    ]

    /// Mistakes of shape, each caught by both.
    static let invalid: [String: String] = [
        "unknown-key": minimalRecipe + "    packagez: [jq]\n",
        "uid-not-a-number": minimalRecipe.replacingOccurrences(of: "uid: 1000", with: "uid: many"),
        "uid-zero": minimalRecipe.replacingOccurrences(of: "uid: 1000", with: "uid: 0"),
        "no-from": "recipe: demo\nlayers:\n  base:\n    workdir: /workspace\n",
        "no-layers": "recipe: demo\n",
        "bad-size": minimalRecipe + "    policy: {max-size: big}\n",
        "bad-owner": minimalRecipe + "    copy: [{src: a, dest: /a, owner: nobody}]\n",
        "cmd-not-a-list": minimalRecipe + "    cmd: echo hi\n",
        "bad-distro": minimalRecipe.replacingOccurrences(of: "distro: busybox", with: "distro: gentoo"),
        "bad-version": "version: 1.2\n" + minimalRecipe,
        "bad-name": minimalRecipe.replacingOccurrences(of: "recipe: demo", with: "recipe: Demo"),
        "step-two-keys": minimalRecipe.replacingOccurrences(of: "    workdir: /workspace\n", with: "    steps:\n      - {run: echo, user: root}\n"),
        "step-unknown": minimalRecipe.replacingOccurrences(of: "    workdir: /workspace\n", with: "    steps:\n      - volumes: [/data]\n"),
        "release-not-bool": minimalRecipe + "    release: sometimes\n",
        "mode-not-octal": minimalRecipe + "    copy: [{src: a, dest: /a, mode: \"0999\"}]\n",
        "variants-not-lists": "recipe: demo\nargs: {X: a}\nvariants: {X: a}\n" + minimalRecipe.split(separator: "\n").dropFirst().joined(separator: "\n") + "\n",
    ]

    func checkJSONSchema(_ file: String) throws -> Int32 {
        let tool = try #require(which("check-jsonschema"), "check-jsonschema is needed (make test installs it from PyPI)")
        return try run(tool, ["--schemafile", repositoryRoot + "/schema/recipe.schema.json", file]).status
    }

    @Test("check-jsonschema accepts the valid recipes and refuses the same mistakes imagegen validate refuses")
    func crossCheck() throws {
        let scratch = Scratch()
        scratch.write("a", "x\n")
        // What the shapes recipe copies and bakes in.
        scratch.write("files/one.txt", "one\n")
        scratch.write("ctx/manifest.yaml", "docs: [a.md]\n")
        scratch.write("ctx/a.md", "a\n")
        var files = SampleRecipes.repositoryRecipes.map { ($0, repositoryRoot + "/recipes/\($0).yaml", true) }
        for (name, text) in Self.valid.merging(Self.families, uniquingKeysWith: { first, _ in first }) { files.append((name, scratch.write("\(name).yaml", text), true)) }
        for (name, text) in Self.invalid { files.append((name, scratch.write("\(name).yaml", text), false)) }
        for (name, path, valid) in files {
            let imagegen = try run(imagegenExecutable, ["validate", path], environment: ["IMAGEGEN_CACHE_DIR": scratch.url(".cache")])
            #expect((imagegen.status == 0) == valid, "imagegen on \(name): \(imagegen.stderr)")
            #expect((try checkJSONSchema(path) == 0) == valid, "check-jsonschema on \(name)")
        }
    }
}
