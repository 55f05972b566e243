import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// The recipe format's keys for real families (#19): each one's Dockerfile, its hash input, and
/// its mistakes at their line and column.
@Suite("recipe format: steps, names, tags, variants, accounts")
struct RecipeFormatTests {
    func dockerfile(_ yaml: String, layer: String, files: [String: String] = [:]) throws -> String {
        let scratch = Scratch()
        for (path, text) in files { scratch.write(path, text) }
        let (plan, diagnostics) = RecipeTestSupport.plan(yaml, in: scratch)
        return try #require(plan?.layer(named: layer), "\(diagnostics.sorted)").dockerfile
    }

    @Test("steps are written in their order, comments above them, nothing added but FROM and imagegen's labels")
    func stepsInOrder() throws {
        let text = try dockerfile(
            """
            recipe: demo
            layers:
              base:
                from: imagegen-test/busybox:1
                steps:
                  # as root first
                  - run: echo one > /one
                  - user: "1000:1000"
                  - workdir: /tmp/work
                  - run: |
                      echo two
                      && echo three
                  - env: {A: "1", B: "$${A}"}
                  - copy: {src: files/x, dest: ./x, chown: "1000:1000", mode: "0640"}
                  - arg: {V: "2"}
                  - expose: [8080, 53/udp]
                  - volume: [/data]
                  - stopsignal: SIGINT
                  - label: {team: tools}
                  - healthcheck: {command: "test -f /one", interval: 5s}
                  - entrypoint: [/bin/sh, -c]
                  - cmd: "echo hi"
            """, layer: "base", files: ["files/x": "x\n"])
        let body = text.split(separator: "\n").dropFirst().prefix(while: { !$0.hasPrefix("LABEL dev.imagegen") }).joined(separator: "\n")
        #expect(
            body == """
                FROM imagegen-test/busybox:1
                # as root first
                RUN echo one > /one
                USER 1000:1000
                WORKDIR /tmp/work
                RUN echo two \\
                    && echo three
                ENV A="1" \\
                    B="${A}"
                COPY --chown=1000:1000 --chmod=0640 copy/files/x ./x
                ARG V=2
                EXPOSE 8080 53/udp
                VOLUME ["/data"]
                STOPSIGNAL SIGINT
                LABEL team="tools"
                HEALTHCHECK --interval=5s CMD test -f /one
                ENTRYPOINT ["/bin/sh", "-c"]
                CMD echo hi
                """)
    }

    @Test("steps and the simple keys that are instructions do not mix; a step is one key; unknown keys say what to write")
    func stepsMistakes() {
        let found = diagnostics(
            for: """
                recipe: demo
                layers:
                  base:
                    from: imagegen-test/busybox:1
                    packages: [jq]
                    ports: [80]
                    steps:
                      - run: echo
                        user: root
                      - volumes: [/data]
                      - packages: [jq]
                """)
        expectDiagnostic(found, line: 5, column: 5, contains: "has steps:, so 'packages' belongs among them where it runs")
        expectDiagnostic(found, line: 6, column: 5, contains: "unknown key 'ports' in layer 'base'; write expose")
        expectDiagnostic(found, line: 8, column: 9, contains: "a step has one key (run, user here)")
        expectDiagnostic(found, line: 10, column: 9, contains: "unknown key 'volumes' in a step; write volume")
    }

    @Test("a step that needs root after a non-root USER is an error at that step")
    func rootSteps() {
        let found = diagnostics(
            for: """
                recipe: demo
                layers:
                  base:
                    from: debian:trixie-slim
                    steps:
                      - user: app
                      - packages: [jq]
                      - user: {name: dev, uid: 1001}
                """)
        expectDiagnostic(found, line: 7, column: 9, contains: "packages install as root, but the steps before leave USER app")
        expectDiagnostic(found, line: 8, column: 9, contains: "this step creates an account, which needs root")
    }

    @Test(
        "an account the base already has: validate says so and how to adopt it; create: false adopts it",
        arguments: [
            ("node:20-alpine", "user: {name: app, uid: 1000}", "uid 1000 is already 'node' in node:20-alpine"),
            ("ubuntu:24.04", "user: {name: ubuntu, uid: 1001}", "'ubuntu' already exists (uid 1000) in ubuntu:24.04"),
            ("debian:trixie-slim", "user: {name: app, uid: 1000, gid: 100}", "gid 100 is already the group 'users'"),
        ])
    func knownAccounts(base: String, user: String, message: String) throws {
        let yaml = "recipe: demo\nlayers:\n  base:\n    from: \(base)\n    \(user)\n"
        expectDiagnostic(diagnostics(for: yaml), line: 5, column: 11, contains: message)
        if !message.hasPrefix("gid") { expectDiagnostic(diagnostics(for: yaml), line: 5, column: 11, contains: "create: false") }
    }

    @Test("create: false writes no account, only the workdir and USER")
    func adoptedAccount() throws {
        let text = try dockerfile("recipe: demo\nlayers:\n  base:\n    from: node:20-alpine\n    user: {name: node, uid: 1000, create: false}\n    workdir: /work\n", layer: "base")
        #expect(!text.contains("adduser") && !text.contains("addgroup"))
        #expect(text.contains("RUN mkdir -p /work \\\n    && chown 1000:1000 /work\nWORKDIR /work\nUSER 1000:1000\n"))
    }

    @Test("image: names the repository; a tag in it is refused; a leaf's image and its hash follow it")
    func imageNames() throws {
        let scratch = Scratch()
        let (plan, found) = RecipeTestSupport.plan(
            minimalRecipe.replacingOccurrences(of: "    distro: busybox\n", with: "    distro: busybox\n    image: ghcr.io/acme/base\n"), in: scratch)
        #expect(found.errors.isEmpty, "\(found.sorted)")
        let base = try #require(plan?.layer(named: "base"))
        #expect(base.reference.description == "ghcr.io/acme/base:\(base.contentHash.short)")
        #expect(base.dockerfile.contains("org.opencontainers.image.title=\"ghcr.io/acme/base\""))
        let (plain, _) = RecipeTestSupport.plan(minimalRecipe, in: Scratch())
        #expect(plain?.layer(named: "base")?.contentHash != base.contentHash)
        expectDiagnostic(
            diagnostics(for: minimalRecipe.replacingOccurrences(of: "    distro: busybox\n", with: "    distro: busybox\n    image: acme/base:1.0\n")),
            line: 6, column: 12, contains: "names a repository, without a tag")
    }

    @Test(
        "tag templates: exact and floating, v prefixes, variants, pre-releases and 0.x",
        arguments: [
            (nil, "1.4.2", nil, ["1.4.2"], ["1.4", "1", "latest"]),
            (nil, "0.3.1", nil, ["0.3.1"], ["0.3", "latest"]),
            (nil, "2.0.0-rc.1", nil, ["2.0.0-rc.1"], []),
            (["v{version}", "v{major}.{minor}"], "1.4.2", nil, ["v1.4.2"], ["v1.4"]),
            (nil, "2.1.11", "trixie", ["2.1.11-trixie"], ["2.1-trixie", "2-trixie", "trixie"]),
            (["{version}-{variant}", "{variant}", "jazzy"], "1.0.0+build.7", "core", ["1.0.0_build.7-core"], ["core", "jazzy"]),
        ] as [([String]?, String, String?, [String], [String])])
    func tagTemplates(templates: [String]?, version: String, variant: String?, exact: [String], floating: [String]) throws {
        let tags = TagTemplate.tags(for: try SemVer(parsing: version), templates: templates, variant: variant)
        #expect(tags.exact.map(\.value) == exact && tags.floating.map(\.value) == floating)
    }

    @Test("tags: mistakes; version takes no args; two layers that would release one name are refused")
    func tagMistakes() {
        let body = minimalRecipe.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n")
        expectDiagnostic(
            diagnostics(for: "recipe: demo\ntags: [\"{vesion}\"]\n" + body), line: 2, column: 8, contains: "'{vesion}' in '{vesion}' is not a placeholder; use {version}")
        expectDiagnostic(diagnostics(for: "recipe: demo\nargs: {X: a}\nversion: 1.0.0-${X}\n" + body), line: 3, column: 10, contains: "version takes no args")
        let clash = minimalRecipe + "  other:\n    from: base\n    image: demo-base\n"
        expectDiagnostic(diagnostics(for: clash), line: 10, column: 12, contains: "layers 'base' and 'other' would both be released as demo-base:1.2.3")
    }

    @Test("variants: a layer per variant with its own hash, generated/ per variant, --arg keeps one, undeclared args refused")
    func variants() throws {
        let yaml = """
            recipe: demo
            args: {FLAVOR: a, UID: "1000"}
            variants: {FLAVOR: [a, b]}
            layers:
              base:
                from: imagegen-test/busybox:1
                distro: busybox
                user: {name: dev, uid: "${UID}"}
                run: ["echo ${FLAVOR} > /flavor"]
              top:
                from: base
                run: ["cat /flavor"]
            """
        let scratch = Scratch()
        let (plan, found) = RecipeTestSupport.plan(yaml, in: scratch)
        #expect(found.errors.isEmpty, "\(found.sorted)")
        let names = try #require(plan).layers.map(\.name)
        #expect(names == ["base-a", "top-a", "base-b", "top-b"])
        let topB = try #require(plan?.layer(named: "top-b"))
        #expect(topB.parentLayer == "base-b" && topB.layer.spec.variant == "b")
        #expect(plan?.layer(named: "base-a")?.dockerfile.contains("echo a > /flavor") == true)
        #expect(plan?.layer(named: "base-a")?.contentHash != plan?.layer(named: "base-b")?.contentHash)
        #expect(plan?.layer(named: "base-b")?.reference.repository.description == "demo-base-b")
        #expect(try plan.map { try GeneratedDirectory.write($0, to: scratch.url("generated")) } != nil)
        #expect(FileManager.default.fileExists(atPath: scratch.url("generated/demo/top-b/Dockerfile")))
        #expect(plan?.selecting(["top"]).map(\.name) == ["base-a", "top-a", "base-b", "top-b"])

        let (one, _) = RecipeTestSupport.plan(yaml, in: Scratch(), overrides: ["FLAVOR": "b"])
        #expect(one?.layers.map(\.name) == ["base-b", "top-b"])
        expectDiagnostic(
            diagnostics(for: yaml.replacingOccurrences(of: "variants: {FLAVOR: [a, b]}", with: "variants: {FLAVR: [a, b]}")),
            line: 3, column: 12, contains: "variants: 'FLAVR' is not an arg; declare it under args:")
    }

    @Test("integers take args; an arg that makes no integer is refused at its line")
    func integerArgs() {
        let yaml = "recipe: demo\nargs: {UID: \"12x\"}\nlayers:\n  base:\n    from: imagegen-test/busybox:1\n    distro: busybox\n    user: {name: dev, uid: \"${UID}\"}\n"
        expectDiagnostic(diagnostics(for: yaml), line: 7, column: 28, contains: "user.uid must be an integer; with its args it is '12x'")
    }

    @Test("copy from another layer: built after it, its hash an input; from an unpinned image, or in a cycle, refused")
    func copyFrom() throws {
        let yaml =
            minimalRecipe + """
                  builder:
                    from: base
                    run: ["echo built > /tmp/out"]
                    release: false
                  app:
                    from: base
                    copy: [{from: builder, src: /tmp/out, dest: /usr/local/share/out, mode: "0644"}]

                """
        let scratch = Scratch()
        let (plan, found) = RecipeTestSupport.plan(yaml, in: scratch)
        #expect(found.errors.isEmpty, "\(found.sorted)")
        let app = try #require(plan?.layer(named: "app")), builder = try #require(plan?.layer(named: "builder"))
        #expect(app.layer.copiesFrom == ["builder"] && app.dependencies == ["base", "builder"])
        #expect(app.dockerfile.contains("COPY --from=\(builder.reference) --chmod=0644 /tmp/out /usr/local/share/out"))
        #expect(app.needsBuildKit && !builder.needsBuildKit)
        #expect(app.inputs["copiesFrom"]?.arrayValue?.first?["contentHash"]?.stringValue == builder.contentHash.hex)
        // The builder changes: the app's hash follows.
        let (changed, _) = RecipeTestSupport.plan(yaml.replacingOccurrences(of: "echo built", with: "echo rebuilt"), in: Scratch())
        #expect(changed?.layer(named: "app")?.contentHash != app.contentHash)

        let unpinned = minimalRecipe + "  app:\n    from: base\n    copy: [{from: golang, src: /go, dest: /go}]\n"
        expectDiagnostic(diagnostics(for: unpinned), line: 10, column: 19, contains: "copy.from: 'golang' names no layer and no pinned image")
        let cycle = minimalRecipe + "  a:\n    from: base\n    copy: [{from: b, src: /x, dest: /x}]\n  b:\n    from: a\n"
        expectDiagnostic(diagnostics(for: cycle), line: 10, column: 19, contains: "dependency cycle through copy from: a → b → a")
    }

    @Test("expose, volumes and stopsignal are checked; package version patterns are quoted in RUN")
    func metadataKeys() throws {
        let found = diagnostics(for: minimalRecipe + "    expose: [70000, 80/http]\n    volumes: [data]\n    stopsignal: \"kill -9\"\n")
        expectDiagnostic(found, line: 8, column: 14, contains: "expose: '70000' must be a port")
        expectDiagnostic(found, line: 8, column: 21, contains: "expose: '80/http' must be a port")
        expectDiagnostic(found, line: 9, column: 15, contains: "volumes 'data' must be an absolute path")
        expectDiagnostic(found, line: 10, column: 17, contains: "stopsignal 'kill -9' must be a signal")
        let text = try dockerfile(
            "recipe: demo\nlayers:\n  base:\n    from: debian:trixie-slim\n    packages: [\"ros-jazzy-ros-core=0.11.0-1*\", jq]\n    policy: {allow-root: \"a ROS base: its tools run as root\"}\n",
            layer: "base")
        #expect(text.contains("        jq \\\n        'ros-jazzy-ros-core=0.11.0-1*' \\\n"))
        #expect(diagnostics(for: "recipe: demo\nlayers:\n  base:\n    from: debian:trixie-slim\n    packages: [\"jq;rm\"]\n").hasErrors)
    }

    @Test("allow-root takes a reason, and the leaf warning about root goes")
    func allowRoot() {
        let root = "recipe: demo\nlayers:\n  base:\n    from: imagegen-test/busybox:1\n    distro: busybox\n"
        #expect(diagnostics(for: root).warnings.contains { $0.message.contains("runs as the base image's user") })
        #expect(diagnostics(for: root + "    policy: {allow-root: \"a devcontainer base\"}\n").isEmpty)
        expectDiagnostic(diagnostics(for: root + "    policy: {allow-root: true}\n"), line: 6, column: 26, contains: "policy.allow-root takes the reason")
    }
}
