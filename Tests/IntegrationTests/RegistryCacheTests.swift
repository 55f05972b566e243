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

/// `--cache`: a real registry (docker-registry, with and without htpasswd) as the content-hash
/// cache, and a second, empty engine (the test's own dockerd) as the fresh CI runner.
@Suite("Registry cache", .serialized)
struct RegistryCacheTests {
    /// A two-layer family on a base of its own (a busybox root with a marker file, so its root
    /// file system, and so its identity, is this test's alone).
    static func recipe(_ name: String, root: String, note: String = "v1", topPolicy: String? = nil) -> String {
        """
        recipe: \(name)
        layers:
          base:
            from: \(root)
            distro: busybox
            user: {name: dev, uid: 1000}
            workdir: /workspace
            run: ["echo made-on-the-first-engine > /workspace/hello"]
          top:
            from: base
            copy: [{src: notes.txt, dest: /workspace/notes.txt}]
            probes:
              - {run: "cat /workspace/notes.txt", expect: "^\(note)$"}
              - {run: "cat /workspace/hello", expect: "^made-on-the-first-engine$"}
        """ + (topPolicy.map { "\n    policy: \($0)" } ?? "")
    }

    static func makeRoot(_ fixture: RecipeFixture) async throws -> String {
        let root = "\(fixture.name)-root:1"
        try await EngineFixture.ensureBusybox(on: fixture.engine, as: root, marker: fixture.name)
        fixture.removeAfterwards(root)
        return root
    }

    static func build(_ plan: BuildPlan, on engine: DockerEngine, cache: RegistryCacheSession?, load: Bool = false) async throws -> (BuildReport, EventLog) {
        var options = BuildOptions()
        options.cache = cache
        options.load = load
        let log = EventLog()
        let report = try await Builder(engine: engine, plan: plan, options: options, events: log.record).run()
        return (report, log)
    }

    /// A fresh CI runner: a dockerd of its own, empty but for `root` (moved as `docker save |
    /// docker load` would). The caller stops it.
    static func freshRunner(with root: String, from engine: DockerEngine) async throws -> (dockerd: PrivateDockerd, engine: DockerEngine) {
        let dockerd = try PrivateDockerd()
        do {
            try await dockerd.start()
            let fresh = try await DockerEngine.connect(endpoint: EngineEndpoint(address: .unixSocket(path: dockerd.socket)))
            try await fresh.loadImages(try await engine.exportImage(root))
            return (dockerd, fresh)
        } catch {
            dockerd.stop()
            throw error
        }
    }

    /// Verify with the cache registry as its only store (no layer indexes or records on disk).
    static func verifyOptions(_ registry: LocalRegistry, mode: RegistryCache.Mode = .readwrite) async throws -> Verifier.Options {
        var options = Verifier.Options()
        options.layerCache = nil
        options.records = nil
        options.sharedIndex = try await session(registry, mode: mode)
        return options
    }

    static func session(_ registry: LocalRegistry, namespace: String = "cache", mode: RegistryCache.Mode = .readwrite) async throws -> RegistryCacheSession {
        var environment: [String: String] = ["HOME": "/nonexistent", "DOCKER_CONFIG": "/nonexistent"]
        if let credentials = registry.credentials {
            environment["IMAGEGEN_REGISTRY_USER"] = credentials.user
            environment["IMAGEGEN_REGISTRY_PASSWORD"] = credentials.password
        }
        return await RegistryCacheSession.open(try RegistryCache(parsing: "\(registry.address)/\(namespace)", mode: mode), environment: environment)
    }

    static func pushed(_ log: EventLog) -> [String] {
        log.all.compactMap { if case .pushed(let layer, _) = $0 { layer } else { nil } }
    }

    static func warnings(_ log: EventLog) -> [String] {
        log.all.compactMap { if case .cacheWarning(let message) = $0 { message } else { nil } }
    }

    /// The layer blobs of the cache's images (what a pull would fetch), from their manifests.
    static func layerBlobs(_ plan: BuildPlan, in registry: LocalRegistry) throws -> Set<String> {
        var digests = Set<String>()
        for layer in plan.layers {
            let manifest = registry.get("/v2/cache/\(layer.imageName.path)/manifests/\(layer.tag.value)", accept: "application/vnd.docker.distribution.manifest.v2+json")
            let document = try JSONValue(parsing: Data(manifest.body.utf8))
            for entry in document["layers"]?.arrayValue ?? [] { if let digest = entry["digest"]?.stringValue { digests.insert(digest) } }
        }
        return digests
    }

    @Test(
        "A fresh engine: nothing changed pulls no layer blob; --load pulls them; a changed top layer pulls its parent alone"
    )
    func freshEngine() async throws {
        let registry = try LocalRegistry(credentials: (user: "ci", password: "cache-test-pw-\(UInt32.random(in: 0...UInt32.max))"))
        try await withRecipeFixture("cache") { fixture in
            let root = try await Self.makeRoot(fixture)
            fixture.scratch.write("notes.txt", "v1\n")
            let plan = try planRecipe(Self.recipe(fixture.name, root: root), in: fixture.scratch)

            // Engine A builds and pushes both layers under their content-hash tags.
            let (first, firstLog) = try await Self.build(plan, on: fixture.engine, cache: try await Self.session(registry))
            #expect(first.outcomes.map(\.state) == [.built, .built])
            #expect(Self.pushed(firstLog) == ["base", "top"])
            #expect(Self.warnings(firstLog).isEmpty)
            for layer in plan.layers {
                #expect(try registry.tags("cache/\(layer.imageName.path)") == [layer.tag.value])
            }
            let blobs = try Self.layerBlobs(plan, in: registry)
            #expect(blobs.count >= 3, "the base's layer and each layer's own")

            // Engine B: empty but for the same base, moved as `docker save | docker load` would.
            let (engineB, second) = try await Self.freshRunner(with: root, from: fixture.engine)
            defer { engineB.stop() }
            let identityA = BaseImages.identity(of: try #require(try await fixture.engine.inspectImage(root)), named: try ImageReference(parsing: root))
            let identityB = BaseImages.identity(of: try #require(try await second.inspectImage(root)), named: try ImageReference(parsing: root))
            #expect(identityA == identityB)
            #expect(identityA.hasPrefix("rootfs:sha256:"), "a base with no registry digest is known by its root file system")

            // Nothing changed: every layer is decided from its manifest; no layer blob leaves the registry.
            let served = registry.blobsServed().count
            let (decided, decidedLog) = try await Self.build(plan, on: second, cache: try await Self.session(registry))
            #expect(decided.outcomes.map(\.state) == [.inRegistry, .inRegistry])
            #expect(decided.succeeded && decided.uploads == 0)
            #expect(decidedLog.steps(of: "base").isEmpty && decidedLog.steps(of: "top").isEmpty, "no build step ran")
            #expect(Set(registry.blobsServed().dropFirst(served)).isDisjoint(with: blobs), "no layer blob was pulled")
            for layer in plan.layers { #expect(try await second.inspectImage(layer.reference) == nil, "\(layer.reference) was not pulled") }

            // --load: every layer pulled, the last first (its image brings those under it).
            let (pulled, pulledLog) = try await Self.build(plan, on: second, cache: try await Self.session(registry), load: true)
            #expect(pulled.outcomes.map(\.state) == [.pulled, .pulled])
            #expect(pulled.uploads == 0, "no build context was sent")
            #expect(Self.pushed(pulledLog).isEmpty)
            #expect(
                pulledLog.outputs(of: "top").contains { $0.hasPrefix("cache: pulling") && $0.hasSuffix("first: it holds every layer under it") },
                "the last layer is pulled first, with every layer under it")
            for layer in plan.layers {
                let image = try #require(try await second.inspectImage(layer.reference), "\(layer.reference) is tagged on engine B")
                #expect(image.labels[ImageLabels.contentHash] == layer.contentHash.hex)
            }
            // The cache's own names are not left behind on B.
            #expect(try await second.listImages(labels: []).flatMap { $0.repoTags ?? [] }.allSatisfy { !$0.hasPrefix(registry.address) })

            let verify = try await Verifier(
                engine: second, plan: plan,
                options: {
                    var options = Verifier.Options()
                    options.layerCache = nil
                    options.records = nil
                    return options
                }()
            ).run()
            #expect(verify.passed, "\(verify.checks.filter { !$0.passed }.map { "\($0.layer) \($0.name): \($0.message)" })")

            // A changed file of the top layer, on a B that has only the base image again: the top
            // layer's parent is pulled (it is built on it), and only it; the top layer builds.
            for layer in plan.layers { try await second.removeImage(layer.reference.description, force: true) }
            fixture.scratch.write("notes.txt", "v2\n")
            let changed = try planRecipe(Self.recipe(fixture.name, root: root, note: "v2"), in: fixture.scratch)
            #expect(changed.layer(named: "base")?.contentHash == plan.layer(named: "base")?.contentHash)
            let (rebuilt, rebuiltLog) = try await Self.build(changed, on: second, cache: try await Self.session(registry))
            #expect(rebuilt.outcomes.map(\.state) == [.inRegistry, .built])
            #expect(rebuiltLog.all.filter { if case .pulled = $0 { true } else { false } }.map(\.layer) == ["base"], "the parent, once")
            #expect(rebuiltLog.steps(of: "base").isEmpty)
            #expect(Self.pushed(rebuiltLog) == ["top"])
            #expect(try registry.tags("cache/\(fixture.name)-top") == Set(plan.layers[1...].map(\.tag.value) + changed.layers[1...].map(\.tag.value)))
        }
    }

    @Test("A cache tag whose labels name another content hash is refused, rebuilt, and not overwritten")
    func conflictingTag() async throws {
        let registry = try LocalRegistry()
        try await withRecipeFixture("cache-conflict") { fixture in
            let root = try await Self.makeRoot(fixture)
            fixture.scratch.write("notes.txt", "v1\n")
            let plan = try planRecipe(Self.recipe(fixture.name, root: root), in: fixture.scratch)
            let base = try #require(plan.layer(named: "base"))

            // Someone else's image under the base layer's content-hash tag.
            let cacheRepository = try Repository(parsing: "\(registry.address)/cache/\(base.imageName.path)")
            let impostor = "\(fixture.name)-impostor:1"
            try await fixture.engine.importImage(
                try EngineFixture.busyboxRootFS(marker: "impostor"), repository: try Repository(parsing: "\(fixture.name)-impostor"), tag: try Tag(parsing: "1"),
                changes: ["LABEL \(ImageLabels.contentHash)=\(String(repeating: "0", count: 64))"])
            fixture.removeAfterwards(impostor)
            try await fixture.engine.tag(impostor, repository: cacheRepository, tag: base.tag)
            try await fixture.engine.push(cacheRepository, tag: base.tag, registryAuth: "e30")
            try await fixture.engine.removeImage(ImageReference(cacheRepository, tag: base.tag), noPrune: true)
            let before = try #require(registry.digest("cache/\(base.imageName.path)", base.tag.value))

            let (report, log) = try await Self.build(plan, on: fixture.engine, cache: try await Self.session(registry))
            #expect(report.outcomes.map(\.state) == [.built, .built])
            #expect(log.outputs(of: "base").contains { $0.contains("cache: not using") && $0.contains("another content hash") })
            #expect(Self.pushed(log) == ["top"], "the conflicting tag is left alone")
            #expect(registry.digest("cache/\(base.imageName.path)", base.tag.value) == before)
            #expect(Self.warnings(log).isEmpty, "a conflict is not a cache failure")
        }
    }

    @Test("A stopped or refusing cache registry gives one warning, and build, verify and release succeed without it")
    func unavailableRegistry() async throws {
        let stopped = try LocalRegistry()
        stopped.stop()
        let locked = try LocalRegistry(credentials: (user: "ci", password: "not-given-\(UInt32.random(in: 0...UInt32.max))"))
        try await withRecipeFixture("cache-down") { fixture in
            let root = try await Self.makeRoot(fixture)
            fixture.scratch.write("notes.txt", "v1\n")
            let path = fixture.scratch.write("recipe.yaml", Self.recipe(fixture.name, root: root))

            // Through the CLI, as CI runs it: the cache from the environment, exit code unchanged.
            let down = try imagegen(["build", path, "--progress", "plain"], in: fixture.scratch, environment: ["IMAGEGEN_CACHE": "\(stopped.address)/cache"])
            #expect(down.status == 0, "\(down.stderr)")
            let warningLines = down.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: the cache") }
            #expect(warningLines.count == 1, "\(down.stderr)")
            #expect(down.stdout.contains("2 built"))
            // verify and release with the cache down: checked here, released here, one warning each.
            let verified = try imagegen(["verify", path], in: fixture.scratch, environment: ["IMAGEGEN_CACHE": "\(stopped.address)/cache"])
            #expect(verified.status == 0, "\(verified.stdout)\n\(verified.stderr)")
            #expect(verified.stderr.split(separator: "\n").filter { $0.hasPrefix("warning: the cache") }.count == 1, "\(verified.stderr)")
            #expect(!verified.stdout.contains("reused:"))
            let released = try imagegen(["release", path, "--version", "1.0.0"], in: fixture.scratch, environment: ["IMAGEGEN_CACHE": "\(stopped.address)/cache"])
            #expect(released.status == 0, "\(released.stdout)\n\(released.stderr)")
            for layer in ["base", "top"] {
                for tag in ["1.0.0", "1.0", "1", "latest"] { fixture.removeAfterwards("\(fixture.name)-\(layer):\(tag)") }
            }

            // A registry that wants credentials nobody gave: refused, the same single warning.
            await EngineFixture.removeImages(ofRecipe: fixture.name, on: fixture.engine)
            let plan = try planRecipe(Self.recipe(fixture.name, root: root), in: fixture.scratch)
            let anonymous = await RegistryCacheSession.open(try RegistryCache(parsing: "\(locked.address)/cache"), environment: ["HOME": "/nonexistent"])
            let (report, log) = try await Self.build(plan, on: fixture.engine, cache: anonymous)
            #expect(report.succeeded)
            #expect(Self.warnings(log).count == 1)
            #expect(Self.pushed(log).isEmpty)
        }
    }

    @Test("--cache-mode read pulls hits and pushes nothing")
    func readMode() async throws {
        let registry = try LocalRegistry()
        try await withRecipeFixture("cache-read") { fixture in
            let root = try await Self.makeRoot(fixture)
            fixture.scratch.write("notes.txt", "v1\n")
            let path = fixture.scratch.write("recipe.yaml", Self.recipe(fixture.name, root: root))

            let read = try imagegen(["build", path, "--cache", "\(registry.address)/cache", "--cache-mode", "read", "--format", "json"], in: fixture.scratch)
            #expect(read.status == 0, "\(read.stderr)")
            #expect(!read.stdout.contains("\"event\":\"pushed\""))
            #expect(try registry.tags("cache/\(fixture.name)-base").isEmpty)
            #expect(try registry.tags("cache/\(fixture.name)-top").isEmpty)

            // Filled by a readwrite run, the cache then serves the read-only one.
            await EngineFixture.removeImages(ofRecipe: fixture.name, on: fixture.engine)
            let write = try imagegen(["build", path, "--cache", "\(registry.address)/cache", "--format", "json"], in: fixture.scratch)
            #expect(write.status == 0, "\(write.stderr)")
            #expect(write.stdout.components(separatedBy: "\"event\":\"pushed\"").count == 3)
            let planned = try imagegen(["plan", path, "--cache", "\(registry.address)/cache"], in: fixture.scratch)
            #expect(planned.stdout.contains("built"))
            await EngineFixture.removeImages(ofRecipe: fixture.name, on: fixture.engine)
            let plannedAfter = try imagegen(["plan", path, "--cache", "\(registry.address)/cache"], in: fixture.scratch)
            #expect(plannedAfter.stdout.components(separatedBy: "in the cache: pull").count == 3, "\(plannedAfter.stdout)")

            let found = try imagegen(["build", path, "--cache", "\(registry.address)/cache", "--cache-mode", "read", "--format", "json"], in: fixture.scratch)
            #expect(found.status == 0, "\(found.stderr)")
            #expect(found.stdout.components(separatedBy: "\"event\":\"inRegistry\"").count == 3, "decided in the registry, not pulled")
            let pulled = try imagegen(["build", path, "--cache", "\(registry.address)/cache", "--cache-mode", "read", "--load", "--format", "json"], in: fixture.scratch)
            #expect(pulled.status == 0, "\(pulled.stderr)")
            #expect(pulled.stdout.components(separatedBy: "\"event\":\"pulled\"").count == 3)

            // verify with --cache pulls what the engine lacks before checking.
            await EngineFixture.removeImages(ofRecipe: fixture.name, on: fixture.engine)
            let verified = try imagegen(["verify", path, "--cache", "\(registry.address)/cache", "--cache-mode", "read"], in: fixture.scratch)
            #expect(verified.status == 0, "\(verified.stdout)\n\(verified.stderr)")
            #expect(verified.stderr.contains("[top] pulled from"))
        }
    }
    @Test("verify --cache keeps each passing result; a fresh runner verifies and releases with no pull; another policy or a failure is checked for real")
    func verifyOnce() async throws {
        let registry = try LocalRegistry()
        let notes = NoteLog()
        try await withRecipeFixture("cache-verify") { fixture in
            let root = try await Self.makeRoot(fixture)
            fixture.scratch.write("notes.txt", "v1\n")
            let plan = try planRecipe(Self.recipe(fixture.name, root: root), in: fixture.scratch)
            #expect(try await Self.build(plan, on: fixture.engine, cache: try await Self.session(registry)).0.succeeded)

            func verify(_ plan: BuildPlan, on engine: DockerEngine, mode: RegistryCache.Mode = .readwrite) async throws -> VerifyReport {
                var options = try await Self.verifyOptions(registry, mode: mode)
                options.notes = { notes.append($0) }
                return try await Verifier(engine: engine, plan: plan, options: options).run()
            }

            // Engine A checks both layers for real and keeps the results.
            let first = try await verify(plan, on: fixture.engine)
            #expect(first.passed && first.layers.allSatisfy { $0.reused == nil })
            #expect(try registry.tags("cache/imagegen-verify").count == 2)

            // A fresh runner with only the base: both results reused, no layer blob pulled, no image
            // made, so no probe ran (a probe needs the image).
            let (engineB, second) = try await Self.freshRunner(with: root, from: fixture.engine)
            defer { engineB.stop() }
            let blobs = try Self.layerBlobs(plan, in: registry)
            let served = registry.blobsServed().count
            let reused = try await verify(plan, on: second, mode: .read)
            #expect(reused.passed)
            #expect(reused.layers.allSatisfy { $0.reused != nil }, "\(notes.all)")
            #expect(reused.layers.map { $0.checks.map(\.name) } == first.layers.map { $0.checks.map(\.name) })
            #expect(reused.layers.map(\.imageID) == first.layers.map(\.imageID))
            #expect(Set(registry.blobsServed().dropFirst(served)).isDisjoint(with: blobs), "no layer blob was pulled")
            for layer in plan.layers { #expect(try await second.inspectImage(layer.reference) == nil, "\(layer.reference) was not pulled") }
            let json = ReportFormats.json(reused)
            #expect(json["layers"]?.arrayValue?.first?["reused"]?["artifact"]?.stringValue?.contains("/cache/imagegen-verify:") == true)
            #expect(ReportFormats.text(reused, colour: false).contains("reused: checks that passed on"))

            // Released from B without a pull: each release image is made in the registry (the cached
            // manifest, a config with the release labels, the layers mounted), tags at the end.
            func release(_ version: String) async throws -> Releaser.Report {
                var options = Releaser.Options(info: ReleaseInfo(version: try SemVer(parsing: version), revision: nil, created: "2026-12-07T12:00:00Z"))
                options.push = true
                options.registry = registry.address
                options.cache = try await Self.session(registry)
                options.provenance = ReleaseProvenance.current(recipePath: "recipe.yaml", revision: nil, sourceRepository: nil, startedOn: "2026-12-07T12:00:00Z")
                return try await Releaser(engine: second, plan: plan, options: options, progress: { notes.append($0) }).run()
            }
            let baseOnly = try await second.listImages(labels: []).map(\.id)
            let released = try await release("1.2.0")
            #expect(released.succeeded, "\(released.failure ?? "") \(notes.all)")
            #expect(released.verify?.layers.allSatisfy { $0.reused != nil } == true)
            #expect(released.tags.allSatisfy(\.pushed) && released.tags.count == 8, "1.2.0, 1.2, 1, latest for each layer")
            #expect(Set(registry.blobsServed().dropFirst(served)).isDisjoint(with: blobs), "no layer blob left the registry")
            #expect(try await second.listImages(labels: []).map(\.id) == baseOnly, "the engine has the base alone")
            for layer in plan.layers {
                let repository = "\(fixture.name)-\(layer.name)"
                #expect(try registry.tags(repository).isSuperset(of: ["1.2.0", "1.2", "1", "latest"]))
                let client = try await Self.session(registry).client
                let image = try #require(try await client.imageConfig(repository: repository, reference: "1.2.0"))
                #expect(image.labels[ImageLabels.OCI.version] == "1.2.0")
                #expect(image.labels[ImageLabels.contentHash] == layer.contentHash.hex)
                #expect(image.created == "2026-12-07T12:00:00Z")
                let cached = try #require(try await client.imageConfig(repository: "cache/\(repository)", reference: layer.tag.value))
                #expect(image.diffIDs == cached.diffIDs, "the same layers")
                let manifest = try #require(image.manifestDigest)
                #expect(try await AttestationReader(client: client).fetch(.sbom, repository: repository, subject: manifest) != nil, "an SBOM from the indexes")
            }
            // The same release again keeps every tag; a later one moves the floating tags.
            let again = try await release("1.2.0")
            #expect(again.succeeded && again.tags.allSatisfy { $0.action.name == "kept" }, "\(again.tags.map { "\($0.reference) \($0.action.name)" })")
            let next = try await release("1.3.0")
            #expect(next.succeeded)
            #expect(next.tags.filter { $0.tag.value == "latest" }.allSatisfy { $0.action.name == "moved" })
            #expect(try await second.listImages(labels: []).map(\.id) == baseOnly)

            // Another policy for the top layer (same image): the base's result is reused; the top
            // layer is pulled with its parent, checked for real, and its result kept under the new key.
            let stricter = try planRecipe(Self.recipe(fixture.name, root: root, topPolicy: "{max-size: 1GB}"), in: fixture.scratch)
            #expect(stricter.layers.map(\.contentHash) == plan.layers.map(\.contentHash))
            let rechecked = try await verify(stricter, on: second)
            #expect(rechecked.passed, "\(rechecked.checks.filter { !$0.passed }.map(\.message))")
            #expect(rechecked.layers.map { $0.reused != nil } == [true, false])
            #expect(notes.all.contains { $0.hasPrefix("[top] pulled from") })
            #expect(notes.all.contains { $0.hasPrefix("[base] pulled from") }, "the parent it is measured against")
            #expect(try registry.tags("cache/imagegen-verify").count == 3)
            #expect(rechecked.layers[1].checks.map(\.name) == first.layers[1].checks.map(\.name))
            #expect(rechecked.layers[1].checks.first { $0.name == "size.total" }?.threshold == .int(1_000_000_000), "checked under the new policy")

            // A failing result is not kept: the next run checks again.
            let failing = try planRecipe(Self.recipe(fixture.name, root: root, topPolicy: "{max-size: 1KB}"), in: fixture.scratch)
            let failed = try await verify(failing, on: second)
            #expect(!failed.passed)
            #expect(try registry.tags("cache/imagegen-verify").count == 3)
            #expect(try await verify(failing, on: second).layers[1].reused == nil)
        }
    }

    @Test("a cache on another registry than the release's: a fresh runner releases with no pull, each layer copied a chunk at a time")
    func releaseAcrossRegistries() async throws {
        let cacheRegistry = try LocalRegistry()
        let releaseRegistry = try LocalRegistry()
        let notes = NoteLog()
        try await withRecipeFixture("cache-across") { fixture in
            let root = try await Self.makeRoot(fixture)
            fixture.scratch.write("notes.txt", "v1\n")
            let plan = try planRecipe(Self.recipe(fixture.name, root: root), in: fixture.scratch)
            #expect(try await Self.build(plan, on: fixture.engine, cache: try await Self.session(cacheRegistry)).0.succeeded)
            #expect(try await Verifier(engine: fixture.engine, plan: plan, options: try await Self.verifyOptions(cacheRegistry)).run().passed)

            let (engineB, second) = try await Self.freshRunner(with: root, from: fixture.engine)
            defer { engineB.stop() }
            let baseOnly = try await second.listImages(labels: []).map(\.id)

            var options = Releaser.Options(info: ReleaseInfo(version: try SemVer(parsing: "1.0.0"), revision: nil, created: "2026-12-07T12:00:00Z"))
            options.push = true
            options.registry = releaseRegistry.address
            options.cache = try await Self.session(cacheRegistry)
            options.provenance = ReleaseProvenance.current(recipePath: "recipe.yaml", revision: nil, sourceRepository: nil, startedOn: "2026-12-07T12:00:00Z")
            let released = try await Releaser(engine: second, plan: plan, options: options, progress: { notes.append($0) }).run()
            #expect(released.succeeded, "\(released.failure ?? "") \(notes.all)")
            #expect(released.tags.allSatisfy(\.pushed) && released.tags.count == 8)
            #expect(try await second.listImages(labels: []).map(\.id) == baseOnly, "nothing pulled into the engine")
            #expect(!notes.all.contains { $0.contains("pulled from") }, "\(notes.all)")

            // Each release image reads back whole from the release registry, on the cached layers.
            let cacheClient = try await Self.session(cacheRegistry).client
            let releaseClient = try await Self.session(releaseRegistry).client
            for layer in plan.layers {
                let repository = "\(fixture.name)-\(layer.name)"
                let image = try #require(try await releaseClient.imageConfig(repository: repository, reference: "1.0.0"))
                let cached = try #require(try await cacheClient.imageConfig(repository: "cache/\(repository)", reference: layer.tag.value))
                #expect(image.diffIDs == cached.diffIDs && image.labels[ImageLabels.OCI.version] == "1.0.0")
                let (_, body) = try #require(try await releaseClient.rawManifest(repository: repository, reference: "1.0.0"))
                for blob in try JSONValue(parsing: body)["layers"]?.arrayValue ?? [] {
                    let digest = try Digest(parsing: try #require(blob["digest"]?.stringValue))
                    #expect(try await releaseClient.blob(repository: repository, digest: digest, limit: 64 << 20) != nil, "\(digest) is there, its bytes its digest")
                }
                let manifest = try #require(image.manifestDigest)
                #expect(try await AttestationReader(client: releaseClient).fetch(.sbom, repository: repository, subject: manifest) != nil)
            }

            // The copy itself, in chunks of 100,000 bytes: the last one short, the bytes the same.
            let top = try #require(plan.layers.last)
            let (_, cachedBody) = try #require(try await cacheClient.rawManifest(repository: "cache/\(fixture.name)-top", reference: top.tag.value))
            let largest = try #require(
                try JSONValue(parsing: cachedBody)["layers"]?.arrayValue?.max { ($0["size"]?.intValue ?? 0) < ($1["size"]?.intValue ?? 0) })
            let digest = try Digest(parsing: try #require(largest["digest"]?.stringValue))
            let size = try #require(largest["size"]?.intValue)
            #expect(size > 300_000 && size % 100_000 != 0, "several chunks, the last one short: \(size)")
            try await releaseClient.copyBlob(digest, from: cacheClient, repository: "cache/\(fixture.name)-top", into: "chunks/copy", chunk: 100_000)
            let copied = try #require(try await releaseClient.blob(repository: "chunks/copy", digest: digest, limit: 64 << 20))
            #expect(Int64(copied.count) == size)
            #expect(try await releaseClient.blobSize(repository: "chunks/copy", digest: digest) == size)
        }
    }

    @Test("layer indexes shared in the cache: a fresh runner reads no layer; an index under other rules or for another layer is not used")
    func sharedIndex() async throws {
        let registry = try LocalRegistry()
        let notes = NoteLog()
        try await withRecipeFixture("cache-index") { fixture in
            let root = try await Self.makeRoot(fixture)
            fixture.scratch.write("notes.txt", "v1\n")
            let plan = try planRecipe(Self.recipe(fixture.name, root: root), in: fixture.scratch)
            #expect(try await Self.build(plan, on: fixture.engine, cache: nil).0.succeeded)

            func verify(_ session: RegistryCacheSession?, limit: Int64? = nil) async throws -> VerifyReport {
                var options = Verifier.Options()
                options.layerCache = nil
                options.sharedIndex = session
                options.reuseResults = false
                options.notes = { notes.append($0) }
                if let limit { options.export.secretScanLimit = limit }
                return try await Verifier(engine: fixture.engine, plan: plan, options: options).run()
            }
            func sources(_ report: VerifyReport) -> Set<LayerSource> { Set(report.layers.flatMap(\.layerSources).map(\.source)) }

            let first = try await verify(try await Self.session(registry))
            #expect(first.passed)
            #expect(sources(first) == [.storage])
            let ids = Set(first.layers.flatMap(\.layerSources).map(\.diffID))
            let tags = try registry.tags("cache/imagegen-layer-index")
            #expect(tags.count == ids.count && ids.allSatisfy { id in tags.contains { $0.hasPrefix(id.hex + ".") } }, "\(tags) \(notes.all)")

            // A fresh runner (no local index) reads every layer from the shared index, and the
            // read-only mode uses what is there.
            let second = try await verify(try await Self.session(registry, mode: .read))
            #expect(sources(second) == [.registry])
            #expect(LayerStorageTests.comparable(second) == LayerStorageTests.comparable(first))

            // Other scan settings (as other secret rules would) are another key: not used.
            let otherRules = try await verify(try await Self.session(registry, mode: .read), limit: 1 << 20)
            #expect(!sources(otherRules).contains(.registry))

            // An index stored under another layer's tag is refused, and that layer is read here.
            let session = try await Self.session(registry)
            let sorted = ids.sorted { $0.description < $1.description }
            let key = LayerIndexStore.key(ImageExport.Options())
            let (_, body) = try #require(
                try await session.client.rawManifest(
                    repository: "cache/imagegen-layer-index", reference: "\(sorted[0].hex).\(key)",
                    accept: ["application/vnd.oci.image.manifest.v1+json"]))
            try await session.client.pushManifest(
                repository: "cache/imagegen-layer-index", reference: "\(sorted[1].hex).\(key)",
                mediaType: "application/vnd.oci.image.manifest.v1+json", body: body)
            let forged = try await verify(try await Self.session(registry, mode: .read))
            let forgedSources = Dictionary(forged.layers.flatMap(\.layerSources).map { ($0.diffID, $0.source) }, uniquingKeysWith: { first, _ in first })
            #expect(forgedSources[sorted[1]] == .storage)
            #expect(forgedSources[sorted[0]] == .registry)
            #expect(LayerStorageTests.comparable(forged) == LayerStorageTests.comparable(first))
        }
    }
}
