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

@Suite("DOCKER_HOST=ssh://", .serialized)
struct SSHEngineTests {
    @Test("build, verify and plan through ssh reach the remote engine; a failing ssh is exit 3 with what ssh said")
    func throughSSH() async throws {
        try await withRecipeFixture("ssh") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            let server = try LocalSSHServer()
            defer { server.stop() }
            scratch.write("ctx/manifest.yaml", "docs: [a.md]\n")
            scratch.write("ctx/a.md", "hello over ssh\n")
            let yaml = EngineFixture.recipe(name, base: "    context: {dir: ctx}\n    probes: [\"grep -q 'over ssh' /workspace/context/a.md\"]\n")
            scratch.write("recipe.yaml", yaml)
            let plan = try planRecipe(yaml, in: scratch)
            let reference = try #require(plan.layers.first).reference
            var environment = ["DOCKER_HOST": "ssh://root@127.0.0.1:\(server.port)", "IMAGEGEN_SSH_COMMAND": "ssh -F \(server.clientConfig)"]

            let build = try imagegen(["build", "recipe.yaml"], in: scratch, environment: environment)
            #expect(build.status == 0, "\(build.stderr)")
            // The "remote" engine is this machine's: the image is there, uploaded through ssh.
            #expect(try await engine.inspectImage(reference)?.labels[ImageLabels.contentHash] == plan.layers.first?.contentHash.hex)
            let verify = try imagegen(["verify", "recipe.yaml"], in: scratch, environment: environment)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            let status = try imagegen(["plan", "recipe.yaml", "--format", "json"], in: scratch, environment: environment)
            let document = try JSONValue(parsing: Data(status.stdout.utf8))
            #expect(document["layers"]?.arrayValue?.first?["status"] == "built")
            #expect(document["bases"]?.arrayValue?.first?["resolved"] == .bool(true))

            // Nothing listens: ssh's own words, and the engine's exit code.
            environment["DOCKER_HOST"] = "ssh://root@127.0.0.1:\(server.port == 65_000 ? 65_001 : 65_000)"
            let refused = try imagegen(["build", "recipe.yaml"], in: scratch, environment: environment)
            #expect(refused.status == 3)
            #expect(refused.stderr.contains("through ssh (ssh: connect to host 127.0.0.1 port"), "\(refused.stderr)")
            // A user the server does not accept.
            environment["DOCKER_HOST"] = "ssh://nobody@127.0.0.1:\(server.port)"
            let denied = try imagegen(["build", "recipe.yaml"], in: scratch, environment: environment)
            #expect(denied.status == 3)
            #expect(denied.stderr.contains("Permission denied"), "\(denied.stderr)")
        }
    }
}
