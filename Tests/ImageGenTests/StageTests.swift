import DockerEngine
import Foundation
import Testing
@testable import ImageGen
@testable import ImageGenValues
@testable import BuildContext
@testable import Recipes
@testable import Planning
@testable import LayerInspection
@testable import RegistryCache

/// Builder, Verifier and Releaser driven through the in-memory engine: their own logic (what is
/// built, skipped, checked, tagged), without dockerd.
@Suite("build, verify and release on the in-memory engine")
struct StageTests {
    static let recipe =
        minimalRecipe + """
              tool:
                from: base
                run: ["echo tool"]

            """

    static func setUp(_ yaml: String = recipe) async throws -> (MemoryEngine, DockerEngine, BuildPlan, Scratch) {
        let memory = MemoryEngine()
        let engine = try await DockerEngine.connect(transport: memory)
        let scratch = Scratch()
        let (plan, diagnostics) = RecipeTestSupport.plan(yaml, in: scratch)
        return (memory, engine, try #require(plan, "\(diagnostics.sorted)"), scratch)
    }

    @Test("a cold build builds parents first and tags by content hash; a second one uploads nothing")
    func builds() async throws {
        let (memory, engine, plan, _) = try await Self.setUp()
        let first = try await Builder(engine: engine, plan: plan, options: BuildOptions()).run()
        #expect(first.outcomes.map(\.state) == [.built, .built])
        #expect(first.uploads == 2)
        for layer in plan.layers {
            let image = try #require(memory.image(layer.reference.description))
            #expect(image.labels[ImageLabels.contentHash] == layer.contentHash.hex)
            #expect(image.labels[ImageLabels.baseImage]?.hasPrefix("rootfs:sha256:") == true, "an imported base is known by its root file system")
            #expect(image.user == "1000:1000")
        }
        let second = try await Builder(engine: engine, plan: plan, options: BuildOptions()).run()
        #expect(second.outcomes.map(\.state) == [.cached, .cached])
        #expect(second.uploads == 0)
        #expect(memory.requests.filter { $0 == "POST /build" }.count == 2)
    }

    @Test("a failing layer fails with its step and last lines; what is built on it is skipped")
    func failure() async throws {
        let yaml = Self.recipe.replacingOccurrences(of: "    user: {name: dev, uid: 1000}\n", with: "    user: {name: dev, uid: 1000}\n    run: [\"exit 1\"]\n")
        let (_, engine, plan, _) = try await Self.setUp(yaml)
        let events = EventCollector()
        let report = try await Builder(engine: engine, plan: plan, options: BuildOptions(), events: events.record).run()
        #expect(report.outcomes.map(\.state) == [.failed, .skipped])
        #expect(!report.succeeded)
        let failed = events.all.compactMap { event -> (String?, [String])? in
            if case .failed(_, _, let step, let lines, _) = event { return (step, lines) }
            return nil
        }
        #expect(failed.first?.0?.contains("exit 1") == true)
        #expect(failed.first?.1 == ["it failed here"])
    }

    @Test("a cached step's image removed under the classic builder: the layer is built once more, not failed; twice, it fails")
    func lostCachedStep() async throws {
        let (memory, engine, plan, _) = try await Self.setUp()
        memory.lostCachedSteps = 1
        let events = EventCollector()
        var classic = BuildOptions()
        classic.builder = .classic
        let report = try await Builder(engine: engine, plan: plan, options: classic, events: events.record).run()
        #expect(report.outcomes.map(\.state) == [.built, .built])
        #expect(report.uploads == 3, "the base was sent twice")
        #expect(events.all.contains { if case .output("base", let line) = $0 { line.contains("building the layer again") } else { false } })

        let (again, secondEngine, secondPlan, _) = try await Self.setUp()
        again.lostCachedSteps = 2
        let failed = try await Builder(engine: secondEngine, plan: secondPlan, options: classic).run()
        #expect(failed.outcomes.map(\.state) == [.failed, .skipped], "one retry, not a loop")
    }

    @Test("an image that lost its tag is tagged again, not rebuilt")
    func retag() async throws {
        let (memory, engine, plan, _) = try await Self.setUp()
        _ = try await Builder(engine: engine, plan: plan, options: BuildOptions()).run()
        try await engine.removeImage(plan.layers[1].reference)
        #expect(memory.image(plan.layers[1].reference.description) == nil)
        let report = try await Builder(engine: engine, plan: plan, options: BuildOptions()).run()
        #expect(report.outcomes.map(\.state) == [.cached, .cached])
        #expect(report.uploads == 0)
        #expect(memory.image(plan.layers[1].reference.description) != nil)
    }

    @Test("a release image carries the layer's content hash, but is never adopted as the layer's image")
    func releaseImageNotAdopted() async throws {
        let (memory, engine, plan, _) = try await Self.setUp()
        _ = try await Builder(engine: engine, plan: plan, options: BuildOptions()).run()
        let tool = plan.layers[1]
        let built = try #require(memory.image(tool.reference.description))
        var options = Releaser.Options(info: ReleaseInfo(version: try SemVer(parsing: "1.0.0"), revision: nil, created: "2026-12-01T00:00:00Z"))
        options.probeTimeout = 10
        #expect(try await Releaser(engine: engine, plan: plan, options: options).run().succeeded)
        let released = try #require(memory.image("\(tool.imageName):1.0.0"))
        #expect(released.id != built.id && released.labels[ImageLabels.contentHash] == tool.contentHash.hex)
        // The layer's own image goes (a prune, another job's cleanup); only the release image is left.
        try await engine.removeImage(tool.reference)
        try await engine.removeImage(built.id)

        let report = try await Builder(engine: engine, plan: plan, options: BuildOptions()).run()
        #expect(report.outcomes.map(\.state) == [.cached, .built])
        let rebuilt = try #require(memory.image(tool.reference.description))
        #expect(rebuilt.id != released.id && rebuilt.labels["org.opencontainers.image.version"] == nil)
    }

    @Test("verify: a layer not built fails its 'built' check; built ones pass every policy")
    func verify() async throws {
        let (_, engine, plan, scratch) = try await Self.setUp()
        var options = Verifier.Options()
        options.layerCache = LayerIndexStore(directory: scratch.url("layers"))
        let before = try await Verifier(engine: engine, plan: plan, options: options).run()
        #expect(!before.passed)
        #expect(before.layers.allSatisfy { $0.checks.map(\.name) == ["built"] && $0.checks[0].message.contains("is not built") })

        _ = try await Builder(engine: engine, plan: plan, options: BuildOptions()).run()
        let after = try await Verifier(engine: engine, plan: plan, options: options).run()
        let failed = after.checks.filter { !$0.passed }.map { "\($0.layer): \($0.name): \($0.message)" }
        #expect(after.passed, "\(failed)")
        #expect(after.layers.map(\.layer) == ["base", "tool"])
        #expect(after.checks.contains { $0.name == "user.non-root" && $0.passed })
        #expect(after.checks.contains { $0.name == "secrets.files" && $0.passed })
    }

    @Test("release: tags where semver says, labels on a release image, forward only, a released version kept")
    func release() async throws {
        let (memory, engine, plan, _) = try await Self.setUp()
        _ = try await Builder(engine: engine, plan: plan, options: BuildOptions()).run()
        func release(_ version: String, dryRun: Bool = false) async throws -> Releaser.Report {
            var options = Releaser.Options(info: ReleaseInfo(version: try SemVer(parsing: version), revision: nil, created: "2026-12-01T00:00:00Z"))
            options.dryRun = dryRun
            return try await Releaser(engine: engine, plan: plan, options: options).run()
        }
        let dry = try await release("1.1.0", dryRun: true)
        #expect(dry.succeeded && dry.tags.count == 8)
        #expect(memory.image("demo-tool:1.1.0") == nil, "a dry run tags nothing")

        let first = try await release("1.1.0")
        #expect(first.succeeded, "\(first.failure ?? "")")
        for tag in ["1.1.0", "1.1", "1", "latest"] {
            let image = try #require(memory.image("demo-tool:\(tag)"))
            #expect(image.labels[ImageLabels.OCI.version] == "1.1.0")
            #expect(image.labels[ImageLabels.contentHash] == plan.layers[1].contentHash.hex)
        }
        // The content-hash image is untouched: the release labels are on an image of their own.
        #expect(memory.image(plan.layers[1].reference.description)?.labels[ImageLabels.OCI.version] == nil)

        let hotfix = try await release("1.0.5")
        #expect(hotfix.succeeded)
        #expect(memory.image("demo-tool:latest")?.labels[ImageLabels.OCI.version] == "1.1.0", "latest never moves back")
        #expect(memory.image("demo-tool:1.0")?.labels[ImageLabels.OCI.version] == "1.0.5")
        let again = try await release("1.1.0")
        #expect(again.tags.filter { $0.tag == "1.1.0" }.allSatisfy { $0.action == .keep("already released") })
    }
}

/// Build events collected from the builder's tasks.
final class EventCollector: @unchecked Sendable {
    private let lock = NSLock()
    private var events: [BuildEvent] = []
    func record(_ event: BuildEvent) { lock.withLock { events.append(event) } }
    var all: [BuildEvent] { lock.withLock { events } }
}

/// The engine's build lock (a named container), through the in-memory engine.
@Suite("the build lock")
struct BuildLockTests {
    @Test("a lock left by a process that is gone on this machine is taken over; the build goes on and leaves no lock")
    func deadHolder() async throws {
        let (memory, engine, plan, _) = try await StageTests.setUp()
        let base = plan.layers[0]
        // A pid no process can have: above the kernel's highest (Linux's pid_max, at most 2^22).
        var holder = BuildLock.Holder.current
        holder.pid = 4_194_305
        let lock = BuildLock(engine: engine, reference: base.reference)
        var spec = ContainerSpec(image: "imagegen-test/busybox:1")
        spec.labels = holder.labels
        _ = try await engine.createContainer(spec, name: lock.name)

        let report = try await Builder(engine: engine, plan: plan, options: BuildOptions()).run()
        #expect(report.outcomes.map(\.state) == [.built, .built])
        #expect(memory.containerNames.isEmpty)
    }

    @Test("a live holder elsewhere: the build waits, then fails the layer naming the lock to remove; what is built on it is skipped")
    func liveHolderTimesOut() async throws {
        let (_, engine, plan, _) = try await StageTests.setUp()
        let base = plan.layers[0]
        let lock = BuildLock(engine: engine, reference: base.reference)
        var spec = ContainerSpec(image: "imagegen-test/busybox:1")
        spec.labels = BuildLock.Holder(host: "another-runner", boot: "x", pid: 1).labels
        _ = try await engine.createContainer(spec, name: lock.name)
        var options = BuildOptions()
        options.lockTimeout = 0.3
        let events = EventCollector()
        let report = try await Builder(engine: engine, plan: plan, options: options, events: events.record).run()
        #expect(report.outcomes.map(\.state) == [.failed, .skipped])
        #expect(report.outcomes[0].message?.contains("pid 1 on another-runner") == true)
        #expect(report.outcomes[0].message?.contains("docker rm \(lock.name)") == true)
        #expect(
            events.all.contains { if case .output(_, let line) = $0 { line.contains("waiting for another build of \(base.reference) (pid 1 on another-runner)") } else { false } })
    }

    @Test("the lock's name is the same for a reference in every run, and differs between references")
    func names() async throws {
        let (_, engine, plan, _) = try await StageTests.setUp()
        let first = BuildLock(engine: engine, reference: plan.layers[0].reference).name
        #expect(first == BuildLock(engine: engine, reference: plan.layers[0].reference).name)
        #expect(first != BuildLock(engine: engine, reference: plan.layers[1].reference).name)
        #expect(first.hasPrefix("imagegen-lock-") && first.count == 14 + 32)
    }

    @Test("--builder auto: BuildKit unless the engine, DOCKER_BUILDKIT or resource limits say classic, always with the reason")
    func builderChoice() {
        let quiet = EnginePing(apiVersion: APIVersion(1, 41), builderVersion: nil)
        let options = BuildOptions()
        #expect(options.chooseBuilder(ping: quiet, environment: [:]) == (.buildkit, "the engine's BuildKit"))
        #expect(options.chooseBuilder(ping: EnginePing(apiVersion: APIVersion(1, 41), builderVersion: "2"), environment: [:]).0 == .buildkit)
        #expect(options.chooseBuilder(ping: EnginePing(apiVersion: APIVersion(1, 41), builderVersion: "1"), environment: [:]).0 == .classic)
        #expect(options.chooseBuilder(ping: EnginePing(apiVersion: APIVersion(1, 38), builderVersion: nil), environment: [:]).1.contains("predates"))
        #expect(options.chooseBuilder(ping: quiet, environment: ["DOCKER_BUILDKIT": "0"]) == (.classic, "DOCKER_BUILDKIT=0"))
        var limited = BuildOptions()
        limited.limits.memory = 1 << 30
        let (builder, reason) = limited.chooseBuilder(ping: quiet, environment: [:])
        #expect(builder == .classic && reason.contains("resource limits"))
        var forced = limited
        forced.builder = .buildkit
        #expect(forced.chooseBuilder(ping: quiet, environment: [:]) == (.buildkit, "--builder buildkit"), "asked for by name, it is used")
    }

    @Test("a failed RUN is reported the same way whichever builder ran it")
    func stepFailureWording() {
        #expect(StepTracker.stepFailure("The command '/bin/sh -c exit 3' returned a non-zero code: 3") == "the step exited with code 3")
        #expect(StepTracker.stepFailure("executor failed running [/bin/sh -c echo a && exit 3]: exit code: 3\n") == "the step exited with code 3")
        #expect(StepTracker.stepFailure("process \"/bin/sh -c exit 42\" did not complete successfully: exit code: 42") == "the step exited with code 42")
        #expect(StepTracker.stepFailure("failed to compute cache key: \"/x\" not found") == "failed to compute cache key: \"/x\" not found")
    }
}
