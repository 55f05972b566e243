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

/// `imagegen import` on families of Dockerfiles written here in the style of real ones (a
/// foundation → tools → app chain on Debian trixie, a busybox chain, a variant matrix): each
/// family is built twice — its Dockerfiles with `docker build`, and the imported recipe with
/// `imagegen build` — and the images compared: the same file tree (paths, types, modes, owners,
/// sizes, content digests), the same config (user, workdir, env, ports, volumes, entrypoint, cmd,
/// healthcheck, stop signal), the same names and tags; the generated Dockerfiles hold the
/// originals' instructions in their order; importing them again gives the same recipe.
@Suite("import: Dockerfile families built both ways", .serialized)
struct ImportTests {
    /// Files whose bytes record when a build ran (the password aging field counts days).
    /// Paths that differ between any two builds, and the mount points the classic builder (which
    /// built the originals) leaves in a layer after a RUN and BuildKit does not.
    static let volatile = ["etc/shadow", "etc/shadow-", "etc/gshadow", "etc/gshadow-", "var/log", "var/cache/ldconfig", "var/cache/debconf", "tmp", "dev", "proc", "sys"]

    struct Original {
        var directory: String
        var tags: [String]
        var buildArgs: [String: String] = [:]
    }

    /// `docker build` (the CLI, classic builder) of each original, in order.
    static func buildOriginals(_ originals: [Original], in scratch: Scratch, fixture: RecipeFixture) throws {
        let docker = try #require(which("docker"), "the docker CLI is needed (make test installs docker.io)")
        for original in originals {
            var arguments = ["build", "-q"]
            for tag in original.tags {
                arguments += ["-t", tag]
                fixture.removeAfterwards(tag)
            }
            for (name, value) in original.buildArgs.sorted(by: { $0.key < $1.key }) { arguments += ["--build-arg", "\(name)=\(value)"] }
            let result = try run(docker, arguments + [scratch.url(original.directory)], environment: ["DOCKER_BUILDKIT": "0"])
            try #require(result.status == 0, "docker build \(original.directory): \(result.stderr)")
        }
    }

    /// The instructions of a Dockerfile as the comparison sees them: keyword and arguments,
    /// continuations joined, without imagegen's own lines; FROM's image and COPY's sources
    /// (which name the parent by hash and the context's layout) reduced to what they mean.
    /// ARGs before the first FROM (the recipe's args) are left out, and an ARG is its name (a
    /// recipe arg declared in a stage is written with its value).
    static func instructions(_ text: String) -> [String] {
        let parser = DockerfileParser(file: "Dockerfile", text: text)
        var sawFrom = false
        return parser.instructions.compactMap { instruction -> String? in
            let line = instruction.line(escape: parser.escape)
            if instruction.keyword == "FROM" { sawFrom = true }
            if instruction.keyword == "ARG" {
                guard sawFrom, !line.hasPrefix("IMAGEGEN_") else { return nil }
                return "ARG " + line.prefix { $0 != "=" }
            }
            if instruction.keyword == "LABEL", line.contains("dev.imagegen.") { return nil }
            if instruction.keyword == "FROM" { return "FROM" + (line.lowercased().contains(" as ") ? " (stage)" : "") }
            if instruction.keyword == "COPY" {
                let words = DockerfileParser.words(line, escape: parser.escape)
                let flags = instruction.flags.filter { $0.name != "from" }.map { "--\($0.name)=\($0.value)" }
                return (["COPY"] + flags + words.dropLast().map { String($0.lastPathComponent) } + [words.last ?? ""]).joined(separator: " ")
            }
            if instruction.keyword == "VOLUME" { return "VOLUME " + (instruction.json ?? DockerfileParser.words(line, escape: parser.escape)).joined(separator: " ") }
            if instruction.keyword == "ENV", let pairs = DockerfileParser.pairs(line, escape: parser.escape, legacy: true) {
                return "ENV " + pairs.map { "\($0.0)=\($0.1)" }.joined(separator: " ")
            }
            return instruction.keyword + " " + DockerfileParser.words(line, escape: parser.escape).joined(separator: " ")
        }
    }

    /// Imports, validates, generates and builds `layers` of the family, then compares each
    /// layer's image with the original's.
    func check(
        _ originals: [Original], layers: [(layer: String, original: String, directory: String, stages: Int)], importArguments: [String],
        expectedTags: Set<String>, in scratch: Scratch, fixture: RecipeFixture
    ) async throws {
        let engine = fixture.engine
        let imported = try imagegen(["import"] + originals.map(\.directory).uniqued() + ["--recipe", fixture.name, "--out", "recipe.yaml"] + importArguments, in: scratch)
        #expect(imported.status == 0, "\(imported.stderr)")
        let recipe = try #require(scratch.read("recipe.yaml"))
        #expect(try imagegen(["validate", "recipe.yaml"], in: scratch).status == 0)
        #expect(try imagegen(["generate", "recipe.yaml"], in: scratch).status == 0)

        // The generated Dockerfiles hold each original's instructions, in order.
        for layer in layers {
            let original = try #require(scratch.read(layer.directory + "/Dockerfile"))
            let generated = try #require(scratch.read("generated/\(fixture.name)/\(layer.layer)/Dockerfile"), "no Dockerfile for \(layer.layer)")
            var expected = Self.instructions(original)
            // The stages before the last are layers of their own.
            if layer.stages > 0 {
                let froms = expected.indices.filter { expected[$0].hasPrefix("FROM") }
                expected = Array(expected[froms[layer.stages]...]).map { $0 == "FROM (stage)" ? "FROM" : $0 }
            }
            let made = Self.instructions(generated)
            #expect(made == expected, "\(layer.layer): generated \(made) for \(expected)")
        }

        let built = try imagegen(["build", "recipe.yaml", "--format", "json"], in: scratch)
        #expect(built.status == 0, "\(built.stdout)\n\(built.stderr)")
        let plan = try planRecipe(recipe, in: scratch)
        for layer in layers {
            let mine = try #require(plan.layer(named: layer.layer)).reference.description
            let theirs = try #require(try await engine.inspectImage(layer.original), "original \(layer.original)")
            let ours = try #require(try await engine.inspectImage(mine))
            let originalTree = try await ImageTree.read(layer.original, engine: engine).without(Self.volatile)
            let recipeTree = try await ImageTree.read(mine, engine: engine).without(Self.volatile)
            #expect(originalTree == recipeTree, "\(layer.layer): file trees differ:\n\(originalTree.differences(from: recipeTree).joined(separator: "\n"))")
            #expect(ImageConfigSummary(theirs) == ImageConfigSummary(ours), "\(layer.layer): config \(ImageConfigSummary(theirs)) vs \(ImageConfigSummary(ours))")
            // Their labels are all in ours (imagegen adds its own).
            for (key, value) in theirs.labels { #expect(ours.labels[key] == value, "\(layer.layer): label \(key)") }
        }

        // The same names and tags: what a release would write (under a registry prefix, since the
        // originals hold those very tags in this engine).
        let prefix = "127.0.0.1:5999/mirror"
        let release = try imagegen(["release", "recipe.yaml", "--version", "1.0.0", "--dry-run", "--registry", prefix, "--format", "json"], in: scratch)
        #expect(release.status == 0, "\(release.stdout)\n\(release.stderr)")
        let document = try JSONValue(parsing: Data(release.stdout.utf8))
        let references = Set(
            (document["tags"]?.arrayValue ?? []).compactMap { tag -> String? in
                guard let repository = tag["repository"]?.stringValue, let name = tag["tag"]?.stringValue else { return nil }
                return String(repository.dropFirst(prefix.count + 1)) + ":" + name
            })
        #expect(references == expectedTags, "release would tag \(references.sorted()), the originals are \(expectedTags.sorted())")

        // Round trip: the generated Dockerfiles import to the same recipe. (A recipe with variants
        // generates one concrete family per variant, whose args are values: not this recipe.)
        guard !importArguments.contains(where: { $0.hasPrefix("--variant") }) else { return }
        let generatedDirectories = plan.layers.map { "generated/\(fixture.name)/\($0.name)" }
        let again = try imagegen(["import"] + generatedDirectories + ["--recipe", fixture.name, "--out", "again.yaml"] + importArguments, in: scratch)
        #expect(again.status == 0, "\(again.stderr)")
        #expect(
            try #require(scratch.read("again.yaml")).split(separator: "\n").dropFirst() == recipe.split(separator: "\n").dropFirst(),
            "import → generate → import changed the recipe:\n\(scratch.read("again.yaml") ?? "")")
    }

    @Test("a trixie chain: an account used by the next image, a step as the user, WORKDIR changes, EXPOSE, HEALTHCHECK, COPY --from a stage")
    func trixieChain() async throws {
        try await withRecipeFixture("imptrixie") { fixture in
            let scratch = fixture.scratch, org = fixture.name
            scratch.write(
                "core/Dockerfile",
                """
                ARG DEBIAN=trixie
                # The foundation: one account, a workdir it owns.
                FROM debian:${DEBIAN}-slim
                RUN groupadd --gid 1000 app \\
                    && useradd --no-log-init --uid 1000 --gid 1000 --create-home --shell /bin/bash app \\
                    && mkdir -p /srv \\
                    && chown app:app /srv
                WORKDIR /srv
                USER app

                """)
            scratch.write(
                "tools/Dockerfile",
                """
                FROM \(org)/core:1.0
                USER root
                # Root's part: a directory for tools.
                RUN mkdir -p /opt/tools/bin && printf '#!/bin/sh\\necho tool\\n' > /opt/tools/bin/tool && chmod 755 /opt/tools/bin/tool
                COPY motd /etc/motd
                # Back to the account the base made, and a step as it.
                USER app
                ENV PATH=/opt/tools/bin:$PATH \\
                    TOOLS_HOME=/opt/tools
                RUN mkdir -p /home/app/.config /home/app/work && echo "home=$HOME" > /home/app/.config/tools.conf
                WORKDIR /home/app/work
                EXPOSE 8080 9090/udp
                HEALTHCHECK --interval=30s --timeout=3s CMD test -x /opt/tools/bin/tool || exit 1

                """)
            scratch.write("tools/motd", "welcome\n")
            scratch.write(
                "app/Dockerfile",
                """
                FROM \(org)/core:1.0 AS builder
                RUN echo built > /srv/artifact

                FROM \(org)/tools:1.0
                COPY --from=builder /srv/artifact /home/app/work/artifact
                COPY --chown=app:app start.sh ./
                VOLUME /data
                STOPSIGNAL SIGINT
                CMD ["./start.sh"]

                """)
            scratch.write("app/start.sh", "#!/bin/sh\necho started\n")
            try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: scratch.url("app/start.sh"))
            let originals = [
                Original(directory: "core", tags: ["\(org)/core:1.0"]),
                Original(directory: "tools", tags: ["\(org)/tools:1.0"]),
                Original(directory: "app", tags: ["\(org)/app:1.0"]),
            ]
            try Self.buildOriginals(originals, in: scratch, fixture: fixture)
            try await check(
                originals, layers: [("core", "\(org)/core:1.0", "core", 0), ("tools", "\(org)/tools:1.0", "tools", 0), ("app", "\(org)/app:1.0", "app", 1)],
                importArguments: ["--image", "app=\(org)/app", "--tag", "{version}", "--tag", "1.0"],
                expectedTags: Set(["core", "tools", "app"].flatMap { ["\(org)/\($0):1.0.0", "\(org)/\($0):1.0"] }), in: scratch, fixture: fixture)
            let recipe = try #require(scratch.read("recipe.yaml"))
            #expect(recipe.contains("  app-builder:\n    from: core\n    release: false\n"))
            #expect(recipe.contains("      # Back to the account the base made, and a step as it.\n      - user: app\n"))
        }
    }

    @Test("a busybox chain: ENV, LABEL, ARG in a stage, COPY --chown of a directory, ENTRYPOINT and CMD, HEALTHCHECK NONE")
    func busyboxChain() async throws {
        try await withRecipeFixture("impbusy") { fixture in
            let scratch = fixture.scratch, org = fixture.name
            scratch.write(
                "bb-base/Dockerfile",
                """
                FROM imagegen-test/busybox:1
                RUN echo 'dev:x:1000:1000::/home/dev:/bin/sh' >> /etc/passwd \\
                    && echo 'dev:x:1000:' >> /etc/group \\
                    && mkdir -p /home/dev && chown 1000:1000 /home/dev
                ENV GREETING="hello world"
                LABEL org.example.team="tools"
                USER 1000:1000
                WORKDIR /home/dev

                """)
            scratch.write(
                "bb-app/Dockerfile",
                """
                FROM \(org)/bb-base:1.0
                COPY --chown=1000:1000 conf/ /home/dev/conf/
                ARG VERSION=1.2
                RUN echo "v${VERSION} $GREETING" > /home/dev/version
                EXPOSE 7000
                ENTRYPOINT ["/bin/sh", "-c"]
                CMD ["cat /home/dev/version"]
                HEALTHCHECK NONE

                """)
            scratch.write("bb-app/conf/app.conf", "level=info\n")
            scratch.write("bb-app/conf/nested/more.conf", "more=1\n")
            let originals = [Original(directory: "bb-base", tags: ["\(org)/bb-base:1.0"]), Original(directory: "bb-app", tags: ["\(org)/bb-app:1.0"])]
            try Self.buildOriginals(originals, in: scratch, fixture: fixture)
            try await check(
                originals, layers: [("bb-base", "\(org)/bb-base:1.0", "bb-base", 0), ("bb-app", "\(org)/bb-app:1.0", "bb-app", 0)],
                importArguments: ["--image", "bb-app=\(org)/bb-app", "--tag", "v{version}"],
                expectedTags: ["\(org)/bb-base:v1.0.0", "\(org)/bb-app:v1.0.0"], in: scratch, fixture: fixture)
        }
    }

    @Test("a variant matrix of two values: one Dockerfile, built per --build-arg; one recipe, a layer per variant, the same trees and tags")
    func variants() async throws {
        try await withRecipeFixture("impvar") { fixture in
            let scratch = fixture.scratch, org = fixture.name
            scratch.write(
                "flav/Dockerfile",
                """
                ARG FLAVOR=alpha
                FROM imagegen-test/busybox:1
                ARG FLAVOR
                RUN echo "$FLAVOR" > /flavor \\
                    && echo 'dev:x:1000:1000::/home/dev:/bin/sh' >> /etc/passwd \\
                    && echo 'dev:x:1000:' >> /etc/group \\
                    && mkdir -p /home/dev && chown 1000:1000 /home/dev
                USER 1000:1000

                """)
            let originals = ["alpha", "beta"].map { flavor in
                Original(directory: "flav", tags: ["\(org)/flav:1.0.0-\(flavor)", "\(org)/flav:\(flavor)"], buildArgs: ["FLAVOR": flavor])
            }
            try Self.buildOriginals(originals, in: scratch, fixture: fixture)
            try await check(
                originals, layers: [("flav-alpha", "\(org)/flav:alpha", "flav", 0), ("flav-beta", "\(org)/flav:beta", "flav", 0)],
                importArguments: ["--image", "flav=\(org)/flav", "--tag", "{version}-${FLAVOR}", "--tag", "${FLAVOR}", "--variant", "FLAVOR=alpha,beta"],
                expectedTags: Set(originals.flatMap(\.tags)), in: scratch, fixture: fixture)
        }
    }
}

extension Array where Element: Hashable {
    func uniqued() -> [Element] {
        var seen = Set<Element>()
        return filter { seen.insert($0).inserted }
    }
}
