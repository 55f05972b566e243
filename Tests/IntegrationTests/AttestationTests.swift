import ContainerBasics
import Foundation
import Testing

/// What a release attaches to the images it pushes (an SBOM, the verify report, SLSA provenance,
/// as OCI referrers), read back from a real docker-registry with skopeo; and `imagegen diff` of
/// two released versions read from that registry without pulling them.
@Suite("attestations and diffs of releases", .serialized)
struct AttestationTests {
    static func recipe(_ name: String, leftPad: String, extra: String = "") -> String {
        """
        recipe: \(name)
        labels:
          org.opencontainers.image.vendor: Example Team
          org.opencontainers.image.source: https://example.invalid/team/\(name)
        layers:
          base:
            from: imagegen-test/busybox:1
            distro: busybox
            user: {name: dev, uid: 1000}
            workdir: /workspace
            run:
              - mkdir -p /usr/lib/node_modules/left-pad && echo '{"name":"left-pad","version":"\(leftPad)","license":"WTFPL","author":"Cam"}' > /usr/lib/node_modules/left-pad/package.json
          tool:
            from: base
            run: ["echo tool > /tmp/tool.txt\(extra)"]
            probes: ["cat /tmp/tool.txt"]

        """
    }

    static func git(_ scratch: Scratch, _ arguments: [String]) throws {
        let result = try run("/usr/bin/env", ["git", "-C", scratch.path, "-c", "user.name=imagegen", "-c", "user.email=test@imagegen.invalid"] + arguments)
        try #require(result.status == 0, "git \(arguments): \(result.stderr)")
    }

    static func skopeo(_ reference: String) throws -> JSONValue {
        let skopeo = try #require(which("skopeo"), "skopeo is needed (make test installs Debian's package)")
        let result = try run(skopeo, ["inspect", "--tls-verify=false", "--raw", "docker://" + reference])
        try #require(result.status == 0, "skopeo inspect \(reference): \(result.stderr)")
        return try JSONValue(parsing: Data(result.stdout.utf8))
    }

    @Test("release --push attaches an SBOM, the verify report and SLSA provenance to each pushed manifest, once; diff reads two versions from the registry without a pull")
    func attestAndDiff() async throws {
        try await withRecipeFixture("att") { fixture in
            let scratch = fixture.scratch, name = fixture.name
            let registry = try LocalRegistry()
            defer { registry.stop() }
            let prefix = "\(registry.address)/team"
            scratch.write("recipe.yaml", Self.recipe(name, leftPad: "1.0.0"))
            try Self.git(scratch, ["init", "-q", "-b", "main"])
            try Self.git(scratch, ["add", "-A"])
            try Self.git(scratch, ["commit", "-q", "-m", "one"])

            let built = try imagegen(["build", "recipe.yaml"], in: scratch)
            try #require(built.status == 0, "\(built.stderr)")
            let released = try imagegen(["release", "recipe.yaml", "--version", "1.0.0", "--push", "--registry", prefix], in: scratch)
            try #require(released.status == 0, "\(released.stdout)\(released.stderr)")
            #expect(released.stdout.contains("sbom, verify, provenance attached"), "\(released.stdout)")

            // The registry has no referrers API: the spec's fallback tag lists the three artifacts.
            let tool = "\(prefix)/\(name)-tool"
            let manifest = try #require(registry.digest("team/\(name)-tool", "1.0.0"))
            let fallback = try Self.skopeo("\(tool):sha256-\(manifest.dropFirst(7))")
            let listed = fallback["manifests"]?.arrayValue ?? []
            #expect(
                Set(listed.compactMap { $0["artifactType"]?.stringValue }) == [
                    "application/spdx+json", "application/vnd.imagegen.verify.report.v1+json", "application/vnd.in-toto+json",
                ])
            for entry in listed {
                let artifact = try Self.skopeo("\(tool)@" + (entry["digest"]?.stringValue ?? ""))
                #expect(artifact["subject"]?["digest"]?.stringValue == manifest, "each artifact's subject is the image manifest")
                #expect(artifact["config"]?["mediaType"] == "application/vnd.oci.empty.v1+json")
                #expect(artifact["artifactType"] == entry["artifactType"])
            }

            // imagegen attestations lists and fetches them; each document is valid by its own tools.
            let list = try imagegen(["attestations", "\(tool):1.0.0"], in: scratch)
            #expect(list.status == 0 && list.stdout.contains("provenance"), "\(list.stdout)\(list.stderr)")
            let provenance = scratch.url("provenance.json"), sbom = scratch.url("sbom.spdx.json"), report = scratch.url("verify.json")
            for (kind, file) in [("provenance", provenance), ("sbom", sbom), ("verify", report)] {
                let fetched = try imagegen(["attestations", "\(tool):1.0.0", "--fetch", kind, "--output", file], in: scratch)
                #expect(fetched.status == 0, "\(kind): \(fetched.stderr)")
            }
            let statement = try run("/usr/bin/env", ["python3", repositoryRoot + "/Tests/Fixtures/validate-provenance.py", provenance])
            #expect(statement.status == 0, "\(statement.stdout)\(statement.stderr)")
            let document = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: provenance)))
            #expect(document["subject"]?.arrayValue?.first?["digest"]?["sha256"]?.stringValue == String(manifest.dropFirst(7)))
            let dependencies = document["predicate"]?["buildDefinition"]?["resolvedDependencies"]?.arrayValue ?? []
            #expect(dependencies.contains { $0["uri"]?.stringValue == "git+https://example.invalid/team/\(name)" && $0["digest"]?["gitCommit"] != nil })
            #expect(dependencies.contains { $0["uri"]?.stringValue == "docker://imagegen-test/busybox:1" })
            #expect(document["predicate"]?["buildDefinition"]?["externalParameters"]?["layer"] == "tool")
            let spdx = try #require(which("pyspdxtools"), "pyspdxtools is needed (make test installs spdx-tools)")
            let validSBOM = try run(spdx, ["-i", sbom])
            #expect(validSBOM.status == 0, "\(validSBOM.stdout)\(validSBOM.stderr)")
            #expect(try String(contentsOfFile: sbom, encoding: .utf8).contains("pkg:npm/left-pad@1.0.0"))
            let verify = try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: report)))
            #expect(verify["schema"] == "imagegen.verify/1" && verify["passed"] == .bool(true))

            // The same content released again attaches nothing new.
            let again = try imagegen(["release", "recipe.yaml", "--version", "1.0.0", "--push", "--registry", prefix], in: scratch)
            #expect(again.status == 0 && again.stdout.contains("already attached"), "\(again.stdout)\(again.stderr)")
            #expect(try Self.skopeo("\(tool):sha256-\(manifest.dropFirst(7))")["manifests"]?.arrayValue?.count == 3)

            // 1.1.0: left-pad upgraded, a file added.
            scratch.write("recipe.yaml", Self.recipe(name, leftPad: "1.3.0", extra: " && head -c 300000 /dev/zero > /tmp/big.bin"))
            try Self.git(scratch, ["commit", "-q", "-am", "two"])
            try #require(try imagegen(["build", "recipe.yaml"], in: scratch).status == 0)
            let second = try imagegen(["release", "recipe.yaml", "--version", "1.1.0", "--push", "--registry", prefix], in: scratch)
            try #require(second.status == 0, "\(second.stdout)\(second.stderr)")
            // Neither version is in the engine any more: the diff reads the registry.
            for version in ["1.0.0", "1.0", "1", "1.1.0", "1.1", "latest"] {
                for layer in ["base", "tool"] { try? await fixture.engine.removeImage("\(prefix)/\(name)-\(layer):\(version)", noPrune: true) }
            }
            let diff = try imagegen(["diff", "1.0.0", "1.1.0", "--recipe", "recipe.yaml", "--registry", prefix, "--format", "json"], in: scratch)
            try #require(diff.status == 0, "\(diff.stderr)")
            let layers = try JSONValue(parsing: Data(diff.stdout.utf8))["layers"]?.arrayValue ?? []
            let toolDiff = try #require(layers.first { $0["layer"] == "tool" })
            #expect(toolDiff["packages"]?["changed"]?.arrayValue?.first?["newVersion"] == "1.3.0")
            #expect(toolDiff["files"]?["largestAdded"]?.arrayValue?.first?["path"] == "/tmp/big.bin")
            #expect((toolDiff["newBytes"]?.intValue ?? 0) - (toolDiff["oldBytes"]?.intValue ?? 0) >= 300_000)
            #expect(toolDiff["checks"]?.arrayValue?.isEmpty == true, "both sides' checks are known and the same")
            #expect(try await fixture.engine.inspectImage("\(tool):1.0.0") == nil, "nothing was pulled")
            let markdown = try imagegen(["diff", "1.0.0", "1.1.0", "--recipe", "recipe.yaml", "--registry", prefix, "--format", "markdown"], in: scratch)
            #expect(markdown.stdout.contains("| `tool` |") && markdown.stdout.contains("`left-pad` 1.0.0 → 1.3.0"), "\(markdown.stdout)")
            let unchanged = try imagegen(["diff", "1.1.0", "current", "--recipe", "recipe.yaml", "--registry", prefix, "--exit-code"], in: scratch)
            #expect(unchanged.status == 0, "the current build is 1.1.0's content: \(unchanged.stdout)\(unchanged.stderr)")
        }
    }
}
