import ContainerRegistry
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

/// `imagegen build` against the real engine: caching, partial rebuilds, failures, both builders.
@Suite("build on a real engine")
struct BuildTests {
    static func chain(_ name: String) -> String {
        EngineFixture.recipe(
            name, base: "    run: [\"echo base > /base.txt\"]\n",
            layers: """
                  middle:
                    from: base
                    copy: [{src: files/middle.txt, dest: /middle.txt}]
                    run: ["cat /middle.txt"]
                  top:
                    from: middle
                    run: ["echo top-output && cat /middle.txt /base.txt > /top.txt"]
                  sibling:
                    from: base
                    run: ["echo sibling > /sibling.txt"]

                """)
    }

    @Test("two builds of one recipe at once on one engine: one builds each layer, the other waits and reports it cached; both name the tagged image")
    func concurrentRuns() async throws {
        try await withRecipeFixture("twice") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            // Slow enough that the second run arrives while the first is still building.
            scratch.write(
                "recipe.yaml",
                EngineFixture.recipe(
                    name, base: "    run: [\"sleep 3 && echo base > /base.txt\"]\n",
                    layers: """
                          top:
                            from: base
                            run: ["sleep 2 && echo top > /top.txt"]

                        """))
            // Two CI jobs on one runner: two processes, each its own cache directory.
            let directory = scratch.path
            let caches = [scratch.url(".cache-0"), scratch.url(".cache-1")]
            let results = try await withThrowingTaskGroup(of: (Int, (status: Int32, stdout: String, stderr: String)).self) { group in
                for index in 0..<2 {
                    group.addTask {
                        (
                            index,
                            try run(
                                imagegenExecutable, ["build", "recipe.yaml", "--format", "json"], directory: directory,
                                environment: ["IMAGEGEN_CACHE_DIR": caches[index]])
                        )
                    }
                }
                var results = Array(repeating: (status: Int32(-1), stdout: "", stderr: ""), count: 2)
                for try await (index, result) in group { results[index] = result }
                return results
            }
            var states: [String: [String]] = [:]
            var reported: [String: Set<String>] = [:]
            for result in results {
                #expect(result.status == 0, "\(result.stdout)\n\(result.stderr)")
                let summary = try #require(result.stdout.split(separator: "\n").last.map { try JSONValue(parsing: Data($0.utf8)) })
                for layer in summary["layers"]?.arrayValue ?? [] {
                    let layerName = layer["layer"]?.stringValue ?? "?"
                    states[layerName, default: []].append(layer["state"]?.stringValue ?? "?")
                    reported[layerName, default: []].insert(layer["imageID"]?.stringValue ?? "none")
                }
            }
            // Each layer built once on the engine, not twice.
            #expect(states["base"]?.sorted() == ["built", "cached"], "\(states)")
            #expect(states["top"]?.sorted() == ["built", "cached"], "\(states)")
            // (Whether the second run had to wait depends on when it got there; the in-memory test
            // of the lock checks the waiting itself.)
            // No report names an image that lost its tag.
            let plan = try planRecipe(try #require(scratch.read("recipe.yaml")), in: scratch)
            for layer in plan.layers {
                let tagged = try #require(try await engine.inspectImage(layer.reference)).id.description
                #expect(reported[layer.name] == [tagged], "\(layer.name): reports name \(reported[layer.name] ?? []), the tag is on \(tagged)")
            }
            // The lock containers are gone.
            for layer in plan.layers {
                #expect(try await engine.inspectContainer(BuildLock(engine: engine, reference: layer.reference).name) == nil)
            }
        }
    }

    @Test("cold build, fully cached rebuild with nothing uploaded, then only the changed layer and its descendants")
    func coldCachedAndPartial() async throws {
        try await withRecipeFixture("chain") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            // Content of this run's alone: BuildKit keeps its step cache across runs and images.
            scratch.write("files/middle.txt", "version one \(name)\n")

            // Cold: every layer built and tagged by content hash, with the hash label.
            let cold = try planRecipe(Self.chain(name), in: scratch)
            let log = EventLog()
            let first = try await Builder(engine: engine, plan: cold, options: BuildOptions(), events: log.record).run()
            #expect(first.succeeded)
            #expect(first.outcomes.map(\.state) == [.built, .built, .built, .built])
            #expect(first.uploads == 4)
            #expect(log.outputs(of: "middle").contains("version one \(name)"))
            for layer in cold.layers {
                let image = try #require(try await engine.inspectImage(layer.reference))
                #expect(image.labels[ImageLabels.contentHash] == layer.contentHash.hex)
                #expect(image.labels[ImageLabels.baseImage]?.hasPrefix("rootfs:sha256:") == true, "an imported base is known by its root file system")
                #expect(image.config?.user == "1000:1000")
            }

            // Nothing changed: zero build calls, every layer cached.
            let before = engine.statistics.count("build")
            let second = try await Builder(engine: engine, plan: try planRecipe(Self.chain(name), in: scratch), options: BuildOptions()).run()
            #expect(second.outcomes.map(\.state) == [.cached, .cached, .cached, .cached])
            #expect(second.uploads == 0)
            #expect(engine.statistics.count("build") == before)

            // One file of the middle layer changes: middle and top rebuild; base and sibling do not.
            scratch.write("files/middle.txt", "version two \(name)\n")
            let changed = try planRecipe(Self.chain(name), in: scratch)
            let partialLog = EventLog()
            let third = try await Builder(engine: engine, plan: changed, options: BuildOptions(), events: partialLog.record).run()
            let states = Dictionary(uniqueKeysWithValues: third.outcomes.map { ($0.layer, $0.state) })
            #expect(states == ["base": .cached, "sibling": .cached, "middle": .built, "top": .built])
            #expect(third.uploads == 2)
            #expect(partialLog.outputs(of: "top").contains("top-output"))
            // The old images keep their tags; the new ones sit beside them.
            #expect(try await engine.inspectImage(cold.layer(named: "middle")!.reference) != nil)
            #expect(try await engine.inspectImage(changed.layer(named: "middle")!.reference) != nil)
        }
    }

    @Test("the CLI: text summary, JSON events, --layer picks a layer and what it needs")
    func cli() async throws {
        try await withRecipeFixture("cli") { fixture in
            let name = fixture.name, scratch = fixture.scratch
            scratch.write("files/middle.txt", "cli\n")
            scratch.write("recipe.yaml", Self.chain(name))

            let partial = try imagegen(["build", "recipe.yaml", "--layer", "middle", "--format", "json"], in: scratch)
            #expect(partial.status == 0, "\(partial.stderr)")
            let events = try partial.stdout.split(separator: "\n").map { try JSONValue(parsing: Data($0.utf8)) }
            let built = events.filter { $0["event"] == "built" }.compactMap { $0["layer"]?.stringValue }
            #expect(built == ["base", "middle"])
            let summary = try #require(events.last)
            #expect(summary["event"] == "summary" && summary["succeeded"] == .bool(true) && summary["uploads"] == .int(2))

            let all = try imagegen(["build", "recipe.yaml"], in: scratch)
            #expect(all.status == 0, "\(all.stderr)")
            #expect(all.stdout.contains("2 built, 2 cached, 0 not built; 2 build contexts uploaded"))
            #expect(all.stderr.contains("[top] step"))
            #expect(all.stderr.contains("[middle] cached"))
        }
    }

    @Test("a failing RUN step: its command and last output, no descendant built, earlier images kept, exit 1")
    func failingStep() async throws {
        try await withRecipeFixture("fail") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            scratch.write(
                "recipe.yaml",
                EngineFixture.recipe(
                    name,
                    layers: """
                          broken:
                            from: base
                            run: ["echo about to fail && echo details on stderr >&2 && exit 3"]
                          above:
                            from: broken
                            run: ["echo never"]
                        """))
            let result = try imagegen(["build", "recipe.yaml"], in: scratch)
            #expect(result.status == 1)
            #expect(result.stderr.contains("error: layer 'broken' failed at: RUN echo about to fail && echo details on stderr >&2 && exit 3"))
            #expect(result.stderr.contains("    | about to fail"))
            #expect(result.stderr.contains("    | details on stderr"))
            #expect(result.stderr.contains("the step exited with code 3"), "said the same way by either builder")
            #expect(result.stdout.contains("broken  failed"))
            #expect(result.stdout.contains("above   skipped"))
            let built = try planRecipe(try #require(scratch.read("recipe.yaml")), in: scratch)
            #expect(try await engine.inspectImage(built.layer(named: "base")!.reference) != nil)
            #expect(try await engine.inspectImage(built.layer(named: "broken")!.reference) == nil)
            #expect(try await engine.inspectImage(built.layer(named: "above")!.reference) == nil)

            // BuildKit reports the same failure its own way.
            let buildkit = try imagegen(["build", "recipe.yaml", "--builder", "buildkit"], in: scratch)
            #expect(buildkit.status == 1)
            #expect(buildkit.stderr.contains("error: layer 'broken' failed at: RUN echo about to fail"))
            #expect(buildkit.stderr.contains("    | about to fail"))
            #expect(buildkit.stderr.contains("the step exited with code 3"), "the classic builder's words for it")
        }
    }

    @Test("BuildKit builds show steps and RUN output, and the result is cached like the classic builder's")
    func buildkit() async throws {
        try await withRecipeFixture("bk") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            // BuildKit keeps its own step cache across runs: unique content makes the RUN step run.
            scratch.write("files/middle.txt", "from buildkit \(name)\n")
            var options = BuildOptions()
            options.builder = .buildkit
            options.layers = ["middle"]
            let log = EventLog()
            let report = try await Builder(engine: engine, plan: try planRecipe(Self.chain(name), in: scratch), options: options, events: log.record).run()
            #expect(report.builder == "buildkit")
            #expect(report.outcomes.map(\.state) == [.built, .built])
            #expect(log.steps(of: "middle").contains("RUN cat /middle.txt"))
            #expect(log.outputs(of: "middle").contains("from buildkit \(name)"))
            options.builder = .classic
            let again = try await Builder(engine: engine, plan: try planRecipe(Self.chain(name), in: scratch), options: options).run()
            #expect(again.outcomes.map(\.state) == [.cached, .cached])
        }
    }

    @Test("a missing base image is named, with how to get it, and nothing is built")
    func missingBase() async throws {
        _ = try await EngineFixture.engine()
        let name = EngineFixture.uniqueName("nobase")
        let scratch = Scratch()
        scratch.write(
            "recipe.yaml",
            """
            recipe: \(name)
            layers:
              base:
                from: \(name)-absent:1.0
                distro: busybox
                user: {name: dev, uid: 1000}
              child:
                from: base
            """)
        let result = try imagegen(["build", "recipe.yaml"], in: scratch)
        #expect(result.status == 1)
        #expect(result.stderr.contains("base image \(name)-absent:1.0 is not in the engine: run `docker pull \(name)-absent:1.0` (or build with --pull)"))
        #expect(result.stdout.contains("child  skipped"))
        #expect(!result.stderr.contains("uploading"))
    }

    @Test("a re-imported base tag is a new base: nothing built on the old one is reused")
    func staleBase() async throws {
        try await withRecipeFixture("stale") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            let base = "\(name)-os:1"
            // Markers of this run's alone: BuildKit keeps its step cache across runs and images.
            try await EngineFixture.ensureBusybox(on: engine, as: base, marker: "first-\(name)")
            fixture.removeAfterwards(base)
            let yaml = """
                recipe: \(name)
                layers:
                  base:
                    from: \(base)
                    distro: busybox
                    user: {name: dev, uid: 1000}
                  child:
                    from: base
                    run: ["cat /etc/marker"]
                """
            let first = try await Builder(engine: engine, plan: try planRecipe(yaml, in: scratch), options: BuildOptions()).run()
            #expect(first.outcomes.map(\.state) == [.built, .built])
            #expect(try await Builder(engine: engine, plan: try planRecipe(yaml, in: scratch), options: BuildOptions()).run().uploads == 0)

            // The same tag now names other content (as after a `docker pull` of a moved tag).
            try await EngineFixture.ensureBusybox(on: engine, as: base, marker: "second-\(name)")
            let planned = try planRecipe(yaml, in: scratch)
            let status = try await EngineState.check(planned, engine: engine)
            #expect(status.describe(LayerKey("base")).hasPrefix("to build: the base image changed"))
            let log = EventLog()
            let second = try await Builder(engine: engine, plan: planned, options: BuildOptions(), events: log.record).run()
            #expect(second.outcomes.map(\.state) == [.built, .built])
            #expect(log.outputs(of: "child").contains("second-\(name)"))
            let result = try imagegen(["plan", "recipe.yaml"], in: scratch)
            #expect(result.stdout.contains("base \(base): rootfs:sha256:"))
            #expect(result.stdout.contains("  built"))
        }
    }

    @Test("independent layers build side by side with --jobs, each after its parent")
    func parallel() async throws {
        try await withRecipeFixture("jobs") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            let yaml = EngineFixture.recipe(name, layers: (1...4).map { "  leaf\($0):\n    from: base\n    run: [\"echo leaf\($0) > /leaf\"]\n" }.joined())
            var options = BuildOptions()
            options.jobs = 3
            let log = EventLog()
            let report = try await Builder(engine: engine, plan: try planRecipe(yaml, in: scratch), options: options, events: log.record).run()
            #expect(report.succeeded && report.uploads == 5)
            let events = log.all
            let baseBuilt = try #require(events.firstIndex { if case .built("base", _, _) = $0 { true } else { false } })
            for index in 1...4 {
                let started = try #require(events.firstIndex { $0 == .started(layer: "leaf\(index)") })
                #expect(started > baseBuilt)
            }
        }
    }

    @Test("Ctrl-C stops the build cleanly: exit 130, no tag for the unfinished layer, no container left, the lock released")
    func interrupt() async throws {
        try await withRecipeFixture("sigint") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            scratch.write("recipe.yaml", EngineFixture.recipe(name, layers: "  slow:\n    from: base\n    run: [\"echo \(name)-started && sleep 60\"]\n"))
            let process = try startBuild(in: scratch, until: "\(name)-started").process
            kill(process.processIdentifier, SIGINT)
            process.waitUntilExit()
            #expect(process.terminationStatus == 130)
            let plan = try planRecipe(try #require(scratch.read("recipe.yaml")), in: scratch)
            #expect(try await engine.inspectImage(try #require(plan.layer(named: "base")).reference) != nil)
            #expect(try await engine.inspectImage(try #require(plan.layer(named: "slow")).reference) == nil)
            // The engine stopped the step's container and removed it.
            try await Task.sleep(nanoseconds: 2_000_000_000)
            let containers = try run("/usr/bin/env", ["docker", "ps", "-a", "--format", "{{.Command}}"]).stdout
            #expect(!containers.contains("\(name)-started"))
            // The layer's build lock went with it.
            let slow = try #require(plan.layer(named: "slow")).reference.description
            let locks = try run("/usr/bin/env", ["docker", "ps", "-aq", "--filter", "label=\(ImageLabels.lockReference)=\(slow)"]).stdout
            #expect(locks.isEmpty, "the lock container of \(slow) is left")
        }
    }

    @Test("--pull fetches a missing base from its registry; without it the build says how to get it")
    func pull() async throws {
        try await withRecipeFixture("pull") { fixture in
            let engine = fixture.engine, name = fixture.name, scratch = fixture.scratch
            let registry = try LocalRegistry()
            defer { registry.stop() }
            let base = "\(registry.address)/\(name)/busybox:1"
            try await engine.tag(EngineFixture.busybox, repository: try Repository(parsing: "\(registry.address)/\(name)/busybox"), tag: "1")
            try await engine.push(
                try Repository(parsing: "\(registry.address)/\(name)/busybox"), tag: "1", registryAuth: await RegistryAuth.resolve(registry: registry.address).header)
            try await engine.removeImage(base)
            fixture.removeAfterwards(base)
            scratch.write("recipe.yaml", "recipe: \(name)\nlayers:\n  base:\n    from: \(base)\n    distro: busybox\n    user: {name: dev, uid: 1000}\n")
            let without = try imagegen(["build", "recipe.yaml"], in: scratch)
            #expect(without.status == 1)
            #expect(without.stderr.contains("base image \(base) is not in the engine: run `docker pull \(base)` (or build with --pull)"))
            let with = try imagegen(["build", "recipe.yaml", "--pull"], in: scratch)
            #expect(with.status == 0, "\(with.stderr)")
            #expect(try await engine.inspectImage(base) != nil)
        }
    }

    @Test("resource limits reach the RUN steps")
    func limits() async throws {
        try await withRecipeFixture("limits") { fixture in
            let name = fixture.name, scratch = fixture.scratch
            scratch.write(
                "recipe.yaml",
                EngineFixture.recipe(
                    name,
                    layers: """
                          limited:
                            from: base
                            run: ["echo \(name) && cat /sys/fs/cgroup/memory.max 2>/dev/null || cat /sys/fs/cgroup/memory/memory.limit_in_bytes"]

                        """))
            let result = try imagegen(["build", "recipe.yaml", "--memory", "64MiB", "--cpuset-cpus", "0"], in: scratch)
            #expect(result.status == 0, "\(result.stderr)")
            #expect(result.stderr.contains("[limited]   67108864"))
        }
    }
}
