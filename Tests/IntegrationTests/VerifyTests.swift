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

/// `verify` on real images, each planting one violation, and a clean one. Violations imagegen's
/// own Dockerfiles cannot produce are planted as images built from a hand-written Dockerfile (or
/// imported) and tagged as the layer, with the labels a real build gives it.
@Suite("verify on real images")
struct VerifyTests {
    /// Builds `dockerfile` (with `files`) and tags it as `layer` would be tagged by a real build.
    static func plant(_ layer: LayerPlan, dockerfile: String, files: [String: String] = [:], engine: DockerEngine) async throws {
        let root = try #require(try await engine.inspectImage(layer.layer.rootImage.description))
        let base = BaseImages.identity(of: root, named: layer.layer.rootImage)
        var entries: [ContextEntry] = [.inline("Dockerfile", Array(dockerfile.utf8))]
        for (path, text) in files { entries.append(.inline(path, Array(text.utf8))) }
        let sorted = entries.normalizedForArchive()
        var parameters = BuildParameters(tag: layer.reference.description)
        parameters.labels = [ImageLabels.contentHash: layer.contentHash.hex, ImageLabels.baseImage: base, ImageLabels.OCI.title: layer.imageName.description]
        var failure: String?
        for try await message in try await engine.build(
            context: .tar(sorted),
            parameters: parameters)
        {
            if case .error(let text, _) = message { failure = text }
        }
        if let failure { throw TestFailure("planting \(layer.reference) failed: \(failure)") }
    }

    func verify(_ plan: BuildPlan, engine: DockerEngine, layers: [String] = []) async throws -> VerifyReport {
        var options = Verifier.Options()
        options.layers = layers
        options.probeTimeout = 10
        return try await Verifier(engine: engine, plan: plan, options: options).run()
    }

    func failures(_ report: VerifyReport, layer: String) -> Set<String> {
        Set(report.layers.first { $0.layer == layer }?.checks.filter { !$0.passed }.map(\.name) ?? ["<layer not verified>"])
    }

    @Test("a clean image passes every check, and each planted violation fails exactly its check")
    func plantedViolations() async throws {
        try await withRecipeFixture("verify") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            scratch.write("ctx/manifest.yaml", "docs: [docs/guide.md]\n")
            scratch.write("ctx/docs/guide.md", "# Guide\n")
            let yaml = EngineFixture.recipe(
                name,
                layers: """
                      clean:
                        from: base
                        run: ["echo clean > /workspace/clean.txt"]
                        probes: ["true", "echo probed"]
                        policy: {max-size: 10MB, max-added: 1MB, files: {exists: [{path: /workspace/clean.txt, mode: "0644", owner: "0:0"}]}}
                      rooted:
                        from: imagegen-test/busybox:1
                        distro: busybox
                      oversize:
                        from: base
                        run: ["dd if=/dev/zero of=/workspace/blob bs=1024 count=3072 2>/dev/null"]
                        policy: {max-size: 4MB}
                      aptlists:
                        from: base
                        run: ["mkdir -p /var/lib/apt/lists && echo x > /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease"]
                      failingprobe:
                        from: base
                        probes: ["echo about to fail && exit 1"]
                      uidmismatch:
                        from: base
                      deletedkey:
                        from: base
                      envsecret:
                        from: base
                      context:
                        from: base
                        context: {dir: ctx, dest: /workspace/context}

                    """)
            let plan = try planRecipe(yaml, in: scratch)
            for layer in plan.layers { fixture.removeAfterwards(layer.reference) }
            let built = try await Builder(engine: engine, plan: plan, options: BuildOptions()).run()
            #expect(built.succeeded, "\(built.outcomes)")

            // Plant the violations a generated Dockerfile cannot have.
            let base = try #require(plan.layer(named: "base")).reference
            try await Self.plant(try #require(plan.layer(named: "uidmismatch")), dockerfile: "FROM \(base)\nUSER 1001:1001\n", engine: engine)
            try await Self.plant(
                try #require(plan.layer(named: "deletedkey")),
                dockerfile: """
                    FROM \(base)
                    USER 0:0
                    COPY key.pem /etc/ssl/private/service.pem
                    RUN rm /etc/ssl/private/service.pem
                    USER 1000:1000
                    """, files: ["key.pem": FakeKeys.pem], engine: engine)
            try await Self.plant(
                try #require(plan.layer(named: "context")),
                dockerfile: """
                    FROM \(base)
                    COPY --chown=1000:1000 manifest.yaml /workspace/context/manifest.yaml
                    """, files: ["manifest.yaml": "docs: [docs/guide.md]\n"], engine: engine)
            // Env set by import, so the secret is in the config only (an ENV line would also be in the history).
            let envLayer = try #require(plan.layer(named: "envsecret"))
            let busyboxID = BaseImages.identity(
                of: try #require(try await engine.inspectImage("imagegen-test/busybox:1")), named: try ImageReference(parsing: "imagegen-test/busybox:1"))
            try await engine.importImage(
                try EngineFixture.busyboxRootFS(), repository: envLayer.imageName, tag: envLayer.tag,
                changes: [
                    "ENV OPENAI_API_KEY=\(FakeKeys.openAI)", "USER 1000:1000",
                    "LABEL \(ImageLabels.contentHash)=\(envLayer.contentHash) \(ImageLabels.baseImage)=\(busyboxID) org.opencontainers.image.title=\(envLayer.imageName)",
                ])

            let report = try await verify(plan, engine: engine)
            #expect(failures(report, layer: "base").isEmpty)
            #expect(failures(report, layer: "clean").isEmpty, "\(report.layers.first { $0.layer == "clean" }?.checks.filter { !$0.passed } ?? [])")
            let clean = try #require(report.layers.first { $0.layer == "clean" })
            #expect(clean.checks.contains { $0.name == "probe: echo probed" && $0.message == "probed" })
            #expect(Set(clean.checks.map(\.category)) == ["built", "size", "user", "secrets", "labels", "files", "waste", "probes"])
            #expect(failures(report, layer: "rooted") == ["user.non-root"])
            #expect(failures(report, layer: "oversize") == ["size.total"])
            let oversize = try #require(report.layers.first { $0.layer == "oversize" }?.checks.first { $0.name == "size.total" })
            // What pushed it over: the bytes no package owns (busybox has no package database), then the file.
            #expect(oversize.details.first == "largest packages:" && oversize.details.dropFirst().first?.hasSuffix("  (unowned)") == true, "\(oversize.details)")
            let files = try #require(oversize.details.firstIndex(of: "largest files:"))
            #expect(oversize.details[files + 1].hasSuffix("/workspace/blob"), "\(oversize.details)")
            #expect(failures(report, layer: "aptlists") == ["files.absent: /var/lib/apt/lists/*_*"])
            #expect(failures(report, layer: "failingprobe") == ["probe: echo about to fail && exit 1"])
            let probe = try #require(report.layers.first { $0.layer == "failingprobe" }?.checks.first { $0.category == "probes" && !$0.passed })
            #expect(probe.message == "exited with 1" && probe.details == ["about to fail"])
            #expect(failures(report, layer: "uidmismatch") == ["user.non-root", "user.workdir"])
            #expect(
                report.layers.first { $0.layer == "uidmismatch" }?.checks.first { $0.name == "user.non-root" }?.message
                    == "the image runs as uid 1001, but the recipe asks for dev with uid 1000")
            #expect(failures(report, layer: "deletedkey") == ["secrets.files"])
            let key = try #require(report.layers.first { $0.layer == "deletedkey" }?.checks.first { $0.name == "secrets.files" })
            #expect(key.details.contains { $0.contains("/etc/ssl/private/service.pem:1:1 PEM private key [private-key] (deleted by a later layer, still shipped)") })
            // Imported from a bare root file system: no account for uid 1000 either.
            #expect(failures(report, layer: "envsecret") == ["secrets.env", "user.account"])
            #expect(failures(report, layer: "context") == ["files.exists: /workspace/context/docs/guide.md"])

            // No report ever carries a secret's value.
            let everything = ReportFormats.json(report).canonical + ReportFormats.junit(report) + ReportFormats.text(report, colour: false)
            #expect(!everything.contains(FakeKeys.openAI) && !everything.contains("MIIEowIBAAKCAQEA"))
        }
    }

    @Test("a later run: that rewrites the account files fails verify at the line that is wrong")
    func accountsRewritten() async throws {
        try await withRecipeFixture("accounts") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            // Each layer's run: rewrites /etc/passwd as a careless (or hostile) step would; USER stays 1000:1000.
            let yaml = EngineFixture.recipe(
                name,
                layers: """
                      uidchanged:
                        from: base
                        run: ["sed -i 's/^dev:x:1000:/dev:x:2000:/' /etc/passwd"]
                      renamed:
                        from: base
                        run: ["sed -i 's/^dev:/other:/' /etc/passwd"]
                      secondroot:
                        from: base
                        run: ["echo 'toor:x:0:0::/root:/bin/sh' >> /etc/passwd"]
                      deleted:
                        from: base
                        run: ["sed -i '/^dev:/d' /etc/passwd"]
                      homeless:
                        from: base
                        run: ["rm -rf /home/dev"]
                      regrouped:
                        from: base
                        run: ["sed -i '/^dev:/d' /etc/group"]

                    """)
            let plan = try planRecipe(yaml, in: scratch)
            for layer in plan.layers { fixture.removeAfterwards(layer.reference) }
            let built = try await Builder(engine: engine, plan: plan, options: BuildOptions()).run()
            #expect(built.succeeded, "\(built.outcomes)")

            let report = try await verify(plan, engine: engine)
            func check(_ layer: String, _ name: String) -> CheckResult? { report.layers.first { $0.layer == layer }?.checks.first { $0.name == name } }
            #expect(failures(report, layer: "base").isEmpty, "\(report.layers.first { $0.layer == "base" }?.checks.filter { !$0.passed } ?? [])")
            #expect(check("base", "user.account")?.message == "USER 1000:1000 is dev (uid 1000, gid 1000) in /etc/passwd and /etc/group")

            #expect(failures(report, layer: "uidchanged") == ["user.account"])
            let changed = try #require(check("uidchanged", "user.account"))
            #expect(changed.message == "uid 1000 has no entry in /etc/passwd; 'dev' has uid 2000 in /etc/passwd, not 1000")
            #expect(changed.details.contains { $0.hasPrefix("/etc/passwd:") && $0.hasSuffix(": dev:x:2000:1000::/home/dev:/bin/sh") })
            #expect(changed.details.contains { $0.hasPrefix("\(scratch.path)/recipe.yaml:6:") && $0.contains("the recipe's user dev (uid 1000") })

            #expect(failures(report, layer: "renamed") == ["user.account"])
            #expect(check("renamed", "user.account")?.message == "uid 1000 is 'other' in /etc/passwd, not 'dev'")

            #expect(failures(report, layer: "secondroot") == ["user.uid0"])
            let toor = try #require(check("secondroot", "user.uid0"))
            #expect(toor.message == "'toor' has uid 0: root by another name")
            #expect(toor.details.count == 1 && toor.details[0].hasSuffix(": toor:x:0:0::/root:/bin/sh") && toor.details[0].hasPrefix("/etc/passwd:"))

            #expect(failures(report, layer: "deleted") == ["user.account"])
            #expect(check("deleted", "user.account")?.message == "uid 1000 has no entry in /etc/passwd")

            #expect(failures(report, layer: "homeless") == ["user.home"])
            #expect(check("homeless", "user.home")?.message.hasPrefix("home /home/dev of 'dev' (/etc/passwd:") == true)

            #expect(failures(report, layer: "regrouped") == ["user.account"])
            #expect(check("regrouped", "user.account")?.message == "gid 1000 has no entry in /etc/group")
        }
    }

    @Test("the CLI: exit codes, a layer not built, zero checks, JSON and JUnit reports")
    func cli() async throws {
        try await withRecipeFixture("verifycli") { fixture in
            let name = fixture.name, scratch = fixture.scratch
            scratch.write("recipe.yaml", EngineFixture.recipe(name, layers: "  tool:\n    from: base\n    probes: [\"true\"]\n"))

            let notBuilt = try imagegen(["verify", "recipe.yaml"], in: scratch)
            #expect(notBuilt.status == 1)
            #expect(notBuilt.stdout.contains("✗ built  \(name)-base:"))
            #expect(notBuilt.stdout.contains("is not built (run imagegen build)"))

            #expect(try imagegen(["build", "recipe.yaml"], in: scratch).status == 0)
            let text = try imagegen(["verify", "recipe.yaml"], in: scratch)
            #expect(text.status == 0, "\(text.stdout)")
            #expect(text.stdout.contains("verify \(name): passed, 2 layers"))

            let json = try imagegen(["verify", "recipe.yaml", "--format", "json", "--layer", "tool"], in: scratch)
            #expect(json.status == 0)
            let document = try JSONValue(parsing: Data(json.stdout.utf8))
            #expect(document["schema"] == "imagegen.verify/1" && document["passed"] == .bool(true))
            let layers = try #require(document["layers"]?.arrayValue)
            #expect(layers.count == 1 && layers[0]["layer"] == "tool")
            let checks = try #require(layers[0]["checks"]?.arrayValue)
            #expect(checks.allSatisfy { $0["status"] == "passed" && $0["name"] != nil && $0["category"] != nil && $0["message"] != nil })
            #expect(checks.contains { $0["name"] == "size.total" && $0["measured"]?.intValue ?? 0 > 1_000_000 })

            let junit = try imagegen(["verify", "recipe.yaml", "--format", "junit", "--output", "reports/verify.xml"], in: scratch)
            #expect(junit.status == 0)
            #expect(junit.stderr.contains("(report: reports/verify.xml)"))
            let xml = try #require(scratch.read("reports/verify.xml"))
            try JUnitSchema.validate(xml)
            #expect(xml.contains("<testsuite name=\"\(name)-base\""))

            // A recipe without a layer selected that exists: bad input.
            #expect(try imagegen(["verify", "recipe.yaml", "--layer", "nope"], in: scratch).status == 2)
            // No engine: exit 3.
            #expect(try imagegen(["verify", "recipe.yaml"], in: scratch, environment: ["DOCKER_HOST": "unix:///tmp/no-engine.sock"]).status == 3)
        }
    }
}

/// Fake credentials for planted images, assembled at run time.
enum FakeKeys {
    static let openAI = "sk-proj-" + String(repeating: "Zx9Yw8", count: 8)
    static let pem = "-----BEGIN " + "RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA" + String(repeating: "x7Kq2LmP9vRt", count: 5) + "\n-----END RSA PRIVATE KEY-----\n"
}

/// JUnit XML validated by xmllint against Jenkins' JUnit schema (junit-10.xsd), which `make test`
/// takes from pytest's source distribution on PyPI (it is not ours to commit).
enum JUnitSchema {
    static var path: String {
        ProcessInfo.processInfo.environment["IMAGEGEN_JUNIT_XSD"] ?? "/var/cache/imagegen/junit-10.xsd"
    }

    static func validate(_ xml: String) throws {
        let xmllint = try #require(which("xmllint"), "xmllint is needed (make test installs libxml2-utils)")
        #expect(FileManager.default.fileExists(atPath: path), "the JUnit schema is missing at \(path); make test fetches it")
        let scratch = Scratch()
        let file = scratch.write("report.xml", xml)
        let result = try run(xmllint, ["--noout", "--schema", path, file])
        #expect(result.status == 0, "JUnit report does not validate:\n\(result.stderr)")
    }
}
