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

/// `platforms: [linux/amd64, linux/arm64]` on a real engine and a real registry: the base is a
/// busybox image index pushed by `imagegen index`; arm64 runs under QEMU (binfmt, as `make test`
/// registers it) on the main engine, or on an engine of its own (`platformEngines`).
@Suite("Multi-platform", .serialized)
struct MultiPlatformTests {
    static let amd64 = Platform(os: "linux", architecture: "amd64")
    static let arm64 = Platform(os: "linux", architecture: "arm64")
    static let arm64Busybox = "imagegen-test/busybox:1-arm64"

    static func recipe(_ name: String, base: String, baseRun: String = "uname -m > /workspace/machine") -> String {
        """
        recipe: \(name)
        platforms: [linux/amd64, linux/arm64]
        layers:
          base:
            from: \(base)
            distro: busybox
            user: {name: dev, uid: 1000}
            workdir: /workspace
            run: ["\(baseRun)"]
          top:
            from: base
            run: ["echo top > /workspace/top"]
            probes:
              - {run: "uname -m", expect: "^(x86_64|aarch64)$"}
              - '[ "$(cat /workspace/machine)" = "$(uname -m)" ]'

        """
    }

    /// Checks what the tests need of the machine, then pushes `<registry>/base/busybox:1` as an
    /// index of the amd64 and arm64 busybox test images, with the CLI.
    static func pushBase(to registry: LocalRegistry, fixture: RecipeFixture) async throws -> String {
        try #require(
            FileManager.default.fileExists(atPath: "/proc/sys/fs/binfmt_misc/qemu-aarch64"),
            "arm64 emulation is not registered: make test runs scripts/binfmt (qemu-user-static)")
        try await EngineFixture.ensureBusybox(on: fixture.engine)
        let arm = try #require(
            try await fixture.engine.inspectImage(arm64Busybox),
            "\(arm64Busybox) is missing: make test runs scripts/provision-images busybox-arm64")
        #expect(arm.architecture == "arm64")
        let base = "\(registry.address)/base/busybox:1"
        let result = try imagegen(["index", base, "linux/amd64=\(EngineFixture.busybox)", "linux/arm64=\(arm64Busybox)"], in: fixture.scratch)
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout.contains("is an image index"))
        for tag in ["1-amd64", "1-arm64"] { fixture.removeAfterwards("\(registry.address)/base/busybox:\(tag)") }
        return base
    }

    /// `skopeo inspect --raw` of a reference in the (plain HTTP) test registry.
    static func rawManifest(_ reference: String) throws -> JSONValue {
        let skopeo = try #require(which("skopeo"), "skopeo is needed (make test installs Debian's package)")
        let result = try run(skopeo, ["inspect", "--raw", "--tls-verify=false", "docker://\(reference)"])
        try #require(result.status == 0, "skopeo inspect \(reference): \(result.stderr)")
        return try JSONValue(parsing: Data(result.stdout.utf8))
    }

    static func platformsOf(index: JSONValue) -> [String: String] {
        var found: [String: String] = [:]
        for entry in index["manifests"]?.arrayValue ?? [] {
            if let arch = entry["platform"]?["architecture"]?.stringValue, let digest = entry["digest"]?.stringValue { found[arch] = digest }
        }
        return found
    }

    @Test("imagegen index writes an OCI index of both platforms; every layer builds for each, emulated; a second build builds nothing")
    func buildsEachPlatform() async throws {
        let registry = try LocalRegistry()
        try await withRecipeFixture("multi") { fixture in
            let base = try await Self.pushBase(to: registry, fixture: fixture)
            let index = try Self.rawManifest(base)
            #expect(index["mediaType"]?.stringValue == "application/vnd.oci.image.index.v1+json")
            let entries = Self.platformsOf(index: index)
            #expect(Set(entries.keys) == ["amd64", "arm64"])
            #expect(entries["arm64"] == registry.digest("base/busybox", "1-arm64"), "the index lists the manifest pushed under the platform tag")

            let plan = try planRecipe(Self.recipe(fixture.name, base: base), in: fixture.scratch)
            #expect(plan.layers.count == 4)
            let log = EventLog()
            let report = try await Builder(engine: fixture.engine, plan: plan, options: BuildOptions(), events: log.record).run()
            #expect(report.outcomes.map(\.displayName) == ["base@linux/amd64", "base@linux/arm64", "top@linux/amd64", "top@linux/arm64"])
            #expect(report.outcomes.allSatisfy { $0.state == .built }, "\(report.outcomes.map { "\($0.displayName): \($0.state) \($0.message ?? "")" })")
            for layer in plan.layers {
                let image = try #require(try await fixture.engine.inspectImage(layer.reference), "\(layer.reference)")
                #expect(image.architecture == layer.platform?.architecture, "\(layer.displayName) is a \(image.architecture ?? "?") image")
                #expect(image.labels[ImageLabels.contentHash] == layer.contentHash.hex)
            }
            let baseArm = try #require(plan.layer(named: "base", platform: Self.arm64))
            #expect(baseArm.reference != plan.layer(named: "base", platform: Self.amd64)?.reference, "each platform has its own content-hash tag")

            let again = try await Builder(engine: fixture.engine, plan: plan, options: BuildOptions()).run()
            #expect(again.outcomes.map(\.state) == [.cached, .cached, .cached, .cached])
            #expect(again.uploads == 0)

            // verify runs each platform's probes in its own image (arm64's under QEMU).
            let verify = try imagegen(["verify", "recipe.yaml", "--format", "json"], in: fixture.scratch)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            let document = try JSONValue(parsing: Data(verify.stdout.utf8))
            let layers = document["layers"]?.arrayValue ?? []
            #expect(layers.compactMap { $0["platform"]?.stringValue }.sorted() == ["linux/amd64", "linux/amd64", "linux/arm64", "linux/arm64"])
            #expect(layers.allSatisfy { $0["passed"] == .bool(true) })
        }
    }

    @Test("a platform with an engine of its own builds there: each engine holds only its platform's images")
    func nativeEngine() async throws {
        let registry = try LocalRegistry()
        try await withRecipeFixture("multi-native") { fixture in
            let base = try await Self.pushBase(to: registry, fixture: fixture)
            let other = try PrivateDockerd()
            defer { other.stop() }
            try await other.start()
            let armEngine = try await DockerEngine.connect(endpoint: EngineEndpoint(address: .unixSocket(path: other.socket)))

            let plan = try planRecipe(Self.recipe(fixture.name, base: base), in: fixture.scratch)
            let report = try await Builder(engine: fixture.engine, plan: plan, options: BuildOptions(), platformEngines: [Self.arm64: armEngine]).run()
            #expect(report.succeeded, "\(report.outcomes.map { "\($0.displayName): \($0.state) \($0.message ?? "")" })")
            for layer in plan.layers {
                let (home, away) = layer.platform == Self.arm64 ? (armEngine, fixture.engine) : (fixture.engine, armEngine)
                let image = try #require(try await home.inspectImage(layer.reference), "\(layer.displayName) is on its platform's engine")
                #expect(image.architecture == layer.platform?.architecture)
                #expect(try await away.inspectImage(layer.reference) == nil, "\(layer.displayName) is not on the other engine")
            }

            // The CLI: --engine sends arm64's verify to its engine (its images are nowhere else).
            let verify = try imagegen(["verify", "recipe.yaml", "--engine", "linux/arm64=unix://\(other.socket)"], in: fixture.scratch)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            #expect(verify.stdout.contains("top@linux/arm64"), "\(verify.stdout)")
            let without = try imagegen(["verify", "recipe.yaml"], in: fixture.scratch)
            #expect(without.status == 1, "without it, arm64's images are not built on the main engine")
            let bad = try imagegen(["verify", "recipe.yaml", "--engine", "arm64=unix:///nowhere"], in: fixture.scratch)
            #expect(bad.status == 2 && bad.stderr.contains("must be os/architecture"), "\(bad.stderr)")
            let gone = try imagegen(["verify", "recipe.yaml", "--engine", "linux/arm64=unix://\(fixture.scratch.url("no.sock"))"], in: fixture.scratch)
            #expect(gone.status == 3 && gone.stderr.contains("the engine for linux/arm64"), "\(gone.stderr)")
        }
    }

    @Test("a layer failing on one platform fails on all: no tag of it, the layer on it skipped")
    func failureOnOnePlatform() async throws {
        let registry = try LocalRegistry()
        try await withRecipeFixture("multi-fail") { fixture in
            let base = try await Self.pushBase(to: registry, fixture: fixture)
            let plan = try planRecipe(Self.recipe(fixture.name, base: base, baseRun: "[ \\\"$(uname -m)\\\" != aarch64 ]"), in: fixture.scratch)
            let report = try await Builder(engine: fixture.engine, plan: plan, options: BuildOptions()).run()
            #expect(!report.succeeded)
            let states = Dictionary(uniqueKeysWithValues: report.outcomes.map { ($0.displayName, $0.state) })
            #expect(states["base@linux/arm64"] == .failed)
            #expect(states["base@linux/amd64"] == .failed, "the platform that built is not tagged alone")
            #expect(states["top@linux/amd64"] == .skipped && states["top@linux/arm64"] == .skipped)
            for layer in plan.layers {
                #expect(try await fixture.engine.inspectImage(layer.reference) == nil, "\(layer.reference) was left tagged")
            }
        }
    }

    @Test("release --push: one image per platform under <version>-<arch>, an index under each release tag; pulled for arm64 it runs as aarch64")
    func releaseIndex() async throws {
        let registry = try LocalRegistry()
        try await withRecipeFixture("multi-rel") { fixture in
            let base = try await Self.pushBase(to: registry, fixture: fixture)
            fixture.scratch.write("recipe.yaml", Self.recipe(fixture.name, base: base))
            let unbuilt = try imagegen(["release", "recipe.yaml", "--version", "1.2.0", "--push", "--registry", "\(registry.address)/rel"], in: fixture.scratch)
            #expect(unbuilt.status == 1)
            #expect(unbuilt.stderr.contains("✗ top@linux/arm64: built:"), "a failure names the platform: \(unbuilt.stderr)")
            let build = try imagegen(["build", "recipe.yaml"], in: fixture.scratch)
            #expect(build.status == 0, "\(build.stdout)\(build.stderr)")
            let release = try imagegen(
                ["release", "recipe.yaml", "--version", "1.2.0", "--push", "--registry", "\(registry.address)/rel"], in: fixture.scratch,
                environment: ["DOCKER_CONFIG": fixture.scratch.url("no-docker-config")])
            #expect(release.status == 0, "\(release.stdout)\(release.stderr)")
            let repository = "rel/\(fixture.name)-top"
            for tag in ["1.2.0", "1.2", "1", "latest", "1.2.0-amd64", "1.2.0-arm64"] { fixture.removeAfterwards("\(registry.address)/\(repository):\(tag)") }
            #expect(try registry.tags(repository).isSuperset(of: ["1.2.0", "1.2", "1", "latest", "1.2.0-amd64", "1.2.0-arm64"]))
            let firstIndex = try Self.rawManifest("\(registry.address)/\(repository):1.2.0")
            for tag in ["1.2.0", "1.2", "1", "latest"] {
                let index = try Self.rawManifest("\(registry.address)/\(repository):\(tag)")
                #expect(index["mediaType"]?.stringValue == "application/vnd.oci.image.index.v1+json", "\(tag) is an index")
                let entries = Self.platformsOf(index: index)
                #expect(entries["amd64"] == registry.digest(repository, "1.2.0-amd64"))
                #expect(entries["arm64"] == registry.digest(repository, "1.2.0-arm64"))
            }

            // What a user on an arm64 machine gets from the release tag.
            let docker = try #require(which("docker"))
            let pulled = "\(registry.address)/\(repository):1.2.0"
            let pull = try run(docker, ["pull", "--platform", "linux/arm64", "-q", pulled])
            #expect(pull.status == 0, "\(pull.stderr)")
            fixture.removeAfterwards(pulled)
            let machine = try run(docker, ["run", "--rm", "--platform", "linux/arm64", "--network", "none", pulled, "sh", "-c", "uname -m; cat /workspace/machine"])
            #expect(machine.stdout == "aarch64\naarch64\n", "\(machine.stdout)\(machine.stderr)")

            // Released again, nothing moves and nothing is pushed anew.
            let again = try imagegen(
                ["release", "recipe.yaml", "--version", "1.2.0", "--push", "--registry", "\(registry.address)/rel"], in: fixture.scratch,
                environment: ["DOCKER_CONFIG": fixture.scratch.url("no-docker-config")])
            #expect(again.status == 0, "\(again.stderr)")
            #expect(try Self.rawManifest("\(registry.address)/\(repository):1.2.0") == firstIndex, "the index is the same")
            #expect(again.stderr.contains("pushing") == false, "\(again.stderr)")
        }
    }

    @Test("release --push --cache from a fresh engine: each platform's image and the indexes made in the registry, no layer pulled")
    func releaseFromCache() async throws {
        let registry = try LocalRegistry()
        try await withRecipeFixture("multi-cache") { fixture in
            let base = try await Self.pushBase(to: registry, fixture: fixture)
            fixture.scratch.write("recipe.yaml", Self.recipe(fixture.name, base: base))
            let cache = ["--cache", "\(registry.address)/cache"]
            let noConfig = ["DOCKER_CONFIG": fixture.scratch.url("no-docker-config")]
            let build = try imagegen(["build", "recipe.yaml"] + cache, in: fixture.scratch, environment: noConfig)
            #expect(build.status == 0, "\(build.stdout)\(build.stderr)")
            let verify = try imagegen(["verify", "recipe.yaml"] + cache, in: fixture.scratch, environment: noConfig)
            #expect(verify.status == 0, "\(verify.stdout)\(verify.stderr)")
            let plan = try planRecipe(Self.recipe(fixture.name, base: base), in: fixture.scratch)
            var layerBlobs = Set<String>()
            for layer in plan.layers {
                let manifest = try Self.rawManifest("\(registry.address)/cache/\(fixture.name)-\(layer.name):\(layer.tag.value)")
                for blob in manifest["layers"]?.arrayValue ?? [] { if let digest = blob["digest"]?.stringValue { layerBlobs.insert(digest) } }
            }
            #expect(layerBlobs.count >= 4)

            // A fresh runner: an engine with the base's two platforms (by digest) and nothing else.
            let fresh = try PrivateDockerd()
            defer { fresh.stop() }
            try await fresh.start()
            let engine = try await DockerEngine.connect(endpoint: EngineEndpoint(address: .unixSocket(path: fresh.socket)))
            let docker = try #require(which("docker"))
            for digest in Self.platformsOf(index: try Self.rawManifest(base)).values {
                let pulled = try run(docker, ["-H", "unix://\(fresh.socket)", "pull", "-q", "\(registry.address)/base/busybox@\(digest)"])
                try #require(pulled.status == 0, "\(pulled.stderr)")
            }
            let bases = Set(try await engine.listImages(labels: []).map(\.id))
            #expect(bases.count >= 2)
            let served = registry.blobsServed().count
            var environment = noConfig
            environment["DOCKER_HOST"] = "unix://\(fresh.socket)"
            let release = try imagegen(
                ["release", "recipe.yaml", "--version", "1.2.0", "--push", "--registry", "\(registry.address)/rel"] + cache, in: fixture.scratch,
                environment: environment)
            #expect(release.status == 0, "\(release.stdout)\(release.stderr)")
            #expect(release.stderr.contains("pulled from") == false, "\(release.stderr)")
            #expect(Set(registry.blobsServed().dropFirst(served)).isDisjoint(with: layerBlobs), "no layer blob left the registry")
            #expect(Set(try await engine.listImages(labels: []).map(\.id)) == bases, "the fresh engine holds the bases alone")
            for layer in ["base", "top"] {
                let repository = "rel/\(fixture.name)-\(layer)"
                #expect(try registry.tags(repository).isSuperset(of: ["1.2.0", "1.2", "1", "latest", "1.2.0-amd64", "1.2.0-arm64"]))
                let index = try Self.rawManifest("\(registry.address)/\(repository):1.2.0")
                #expect(index["mediaType"]?.stringValue == "application/vnd.oci.image.index.v1+json")
                let entries = Self.platformsOf(index: index)
                for architecture in ["amd64", "arm64"] {
                    #expect(entries[architecture] == registry.digest(repository, "1.2.0-\(architecture)"))
                    let skopeo = try #require(which("skopeo"))
                    let config = try run(skopeo, ["inspect", "--config", "--raw", "--tls-verify=false", "docker://\(registry.address)/\(repository):1.2.0-\(architecture)"])
                    let document = try JSONValue(parsing: Data(config.stdout.utf8))
                    #expect(document["architecture"]?.stringValue == architecture)
                    #expect(document["config"]?["Labels"]?[ImageLabels.OCI.version]?.stringValue == "1.2.0", "\(repository) \(architecture) is stamped")
                }
            }

            // Released again from the fresh engine: every tag kept, nothing written.
            let again = try imagegen(
                ["release", "recipe.yaml", "--version", "1.2.0", "--push", "--registry", "\(registry.address)/rel"] + cache, in: fixture.scratch,
                environment: environment)
            #expect(again.status == 0, "\(again.stdout)\(again.stderr)")
            #expect(again.stderr.contains("stamping") == false, "\(again.stderr)")
        }
    }
}
