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

/// The format's new keys on a real engine: an adopted account, copy mode (BuildKit chosen for
/// that layer alone), copy from an internal layer, root on purpose, internal layers unreleased.
@Suite("recipe format on a real engine")
struct RecipeFormatIntegrationTests {
    @Test("create: false adopts the base's account; mode builds with BuildKit by itself; copy from an internal layer; allow-root reported; release skips internal layers")
    func family() async throws {
        try await withRecipeFixture("format") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            scratch.write("files/tool.sh", "#!/bin/sh\necho tool ran\n")
            scratch.write(
                "recipe.yaml",
                """
                recipe: \(name)
                layers:
                  accounts:
                    from: imagegen-test/busybox:1
                    distro: busybox
                    release: false
                    policy: {allow-root: "an internal base that only adds the account files"}
                    run: ["echo 'node:x:1000:1000::/home/node:/bin/sh' >> /etc/passwd && echo 'node:x:1000:' >> /etc/group && mkdir -p /home/node && chown 1000:1000 /home/node"]
                  builder:
                    from: imagegen-test/busybox:1
                    distro: busybox
                    release: false
                    policy: {allow-root: "a build stage"}
                    run: ["mkdir -p /out && echo artifact > /out/artifact"]
                  app:
                    from: accounts
                    user: {name: node, uid: 1000, create: false}
                    workdir: /home/node/app
                    copy:
                      - {src: files/tool.sh, dest: /usr/local/bin/tool, mode: "0755"}
                      - {from: builder, src: /out/artifact, dest: /home/node/app/artifact, chown: "1000:1000"}
                    expose: [8080]
                    stopsignal: SIGINT
                    probes: ["tool", {run: "cat /home/node/app/artifact", expect: "^artifact$"}]

                """)
            // The classic builder asked for by name: the layer with a mode says why it cannot.
            let classic = try imagegen(["build", "recipe.yaml", "--builder", "classic", "--format", "json"], in: scratch)
            #expect(classic.status == 1)
            #expect(classic.stdout.contains("uses COPY --chmod (copy mode:), which only BuildKit builds"))

            let built = try imagegen(["build", "recipe.yaml", "--format", "json"], in: scratch)
            #expect(built.status == 0, "\(built.stdout)\n\(built.stderr)")
            let plan = try planRecipe(try #require(scratch.read("recipe.yaml")), in: scratch)
            let app = try #require(plan.layer(named: "app"))
            let tree = try await ImageTree.read(app.reference.description, engine: engine)
            #expect(tree.entries["usr/local/bin/tool"]?.mode == 0o755)
            #expect(tree.entries["home/node/app/artifact"]?.uid == 1000 && tree.entries["home/node/app/artifact"]?.gid == 1000)
            let image = try #require(try await engine.inspectImage(app.reference))
            #expect(image.config?.user == "1000:1000" && image.config?.stopSignal == "SIGINT" && image.config?.exposedPorts?.keys.sorted() == ["8080/tcp"])

            let verify = try imagegen(["verify", "recipe.yaml", "--format", "json"], in: scratch)
            #expect(verify.status == 0, "\(verify.stdout)")
            let report = try JSONValue(parsing: Data(verify.stdout.utf8))
            let rootCheck = (report["layers"]?.arrayValue ?? []).first { $0["layer"] == "builder" }?["checks"]?.arrayValue?.first { $0["name"] == "user.non-root" }
            #expect(rootCheck?["status"] == "passed" && rootCheck?["message"]?.stringValue == "runs as root, allowed: a build stage")

            let release = try imagegen(["release", "recipe.yaml", "--version", "1.0.0", "--dry-run", "--format", "json"], in: scratch)
            #expect(release.status == 0, "\(release.stdout)")
            let layers = Set((try JSONValue(parsing: Data(release.stdout.utf8))["tags"]?.arrayValue ?? []).compactMap { $0["layer"]?.stringValue })
            #expect(layers == ["app"], "internal layers are never released")
        }
    }
}
