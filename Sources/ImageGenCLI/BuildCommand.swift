import ArgumentParser
import DockerEngine
import Foundation
import ImageGen
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

struct BuildCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "build",
        abstract: "Build the recipe's layers on the Docker engine, skipping every layer already built for its content hash.",
        discussion: """
            Layers build parents first, independent ones at the same time (--jobs). An image is \
            tagged <recipe>-<layer>:<content hash prefix>; no other tag is touched. Exit codes: 0 \
            every layer built or cached, 1 a layer failed, 2 bad input, 3 the engine is unreachable.

            With --cache REGISTRY[/NAMESPACE], the registry is where built layers live and the engine \
            a cache of it: a layer not in the engine is looked up as \
            REGISTRY/NAMESPACE/<recipe>-<layer>:<hash prefix> and, when its labels carry the layer's \
            content hash and base, counted as built there (in registry) without a pull; only a layer \
            that must be built pulls what it stands on. --load pulls every such layer into the engine. \
            What is built, and what the engine has that the registry lacks, is pushed there \
            (readwrite). The cache never fails a build: when it cannot be used, one warning says why.
            """)

    @OptionGroup var options: RecipeOptions
    @OptionGroup var engineOptions: EngineOptions
    @OptionGroup var buildCA: BuildCAOption
    @OptionGroup var cache: CacheOptions

    @Option(name: .customLong("layer"), help: "Build this layer and the layers it needs (repeatable).")
    var layers: [String] = []

    @Flag(help: "Rebuild every selected layer, ignoring imagegen's and the engine's caches.")
    var noCache = false

    @Option(help: "Layers to build at the same time.")
    var jobs = 2

    @Option(help: "auto (BuildKit, unless the engine, DOCKER_BUILDKIT=0 or resource limits call for classic; the summary says why), buildkit or classic.")
    var builder: BuildOptions.BuilderChoice = .auto

    @Flag(help: "Pull missing external base images from their registry.")
    var pull = false

    @Flag(help: "With --cache: pull every layer the cache holds into the engine (by default only those a build needs).")
    var load = false

    @Option(help: "Output: text (progress and a summary) or json (one event per line).")
    var format: OutputFormat = .text

    @Option(help: "Progress: auto (live on a terminal, else plain), tty, plain or json (as --format json).")
    var progress: ProgressChoice = .auto

    @Option(help: ArgumentHelp("Memory limit for RUN steps (e.g. 2GiB).", valueName: "SIZE"))
    var memory: String?
    @Option(name: .customLong("memory-swap"), help: ArgumentHelp("Memory plus swap limit for RUN steps; -1 for unlimited swap.", valueName: "SIZE"))
    var memorySwap: String?
    @Option(name: .customLong("cpu-shares"), help: "CPU shares (relative weight) for RUN steps.")
    var cpuShares: Int?
    @Option(name: .customLong("cpuset-cpus"), help: "CPUs RUN steps may use (e.g. 0-1).")
    var cpusetCpus: String?
    @Option(name: .customLong("cpu-period"), help: "CPU CFS period (microseconds) for RUN steps.")
    var cpuPeriod: Int?
    @Option(name: .customLong("cpu-quota"), help: "CPU CFS quota (microseconds) for RUN steps.")
    var cpuQuota: Int?
    @Option(name: .customLong("shm-size"), help: ArgumentHelp("Size of /dev/shm for RUN steps.", valueName: "SIZE"))
    var shmSize: String?

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("--jobs must be at least 1") }
        for size in [memory, shmSize].compactMap({ $0 }) {
            do { _ = try ByteSize(parsing: size) } catch { throw ValidationError("\(error)") }
        }
        if let memorySwap, memorySwap != "-1" {
            do { _ = try ByteSize(parsing: memorySwap) } catch { throw ValidationError("\(error)") }
        }
    }

    func run() async throws {
        let plan = try await options.loadPlan()
        for layer in layers where plan.layer(named: layer) == nil {
            throw CommandFailure("unknown layer '\(layer)'; the recipe has \(plan.layers.map(\.name).joined(separator: ", "))", code: .badInput)
        }
        var buildOptions = BuildOptions()
        buildOptions.layers = layers
        buildOptions.noCache = noCache
        buildOptions.jobs = jobs
        buildOptions.builder = builder
        buildOptions.pull = pull
        buildOptions.load = load
        buildOptions.limits.memory = try memory.map { try ByteSize(parsing: $0).bytes }
        buildOptions.limits.memorySwap = try memorySwap.map { $0 == "-1" ? -1 : try ByteSize(parsing: $0).bytes }
        buildOptions.limits.cpuShares = cpuShares
        buildOptions.limits.cpusetCpus = cpusetCpus
        buildOptions.limits.cpuPeriod = cpuPeriod
        buildOptions.limits.cpuQuota = cpuQuota
        buildOptions.limits.shmSize = try shmSize.map { try ByteSize(parsing: $0).bytes }
        buildOptions.buildCA = try buildCA.load()
        buildOptions.cache = try await cache.open(for: plan)

        let terminal = TerminalInfo.current()
        let mode = self.progress.mode(format: format, terminal: terminal)
        let progress = BuildProgress(mode: mode, colour: mode == .terminal && !terminal.dumb && !terminal.noColour)
        let engine = try await engineOptions.connect()
        let native = try await engineOptions.connectPlatforms()
        try await engineOptions.checkEmulation(for: plan.platforms, native: native, engine: engine)
        let report: BuildReport
        do {
            let options = buildOptions
            report = try await withInterruptHandling(notice: progress.note) {
                try await Builder(engine: engine, plan: plan, options: options, platformEngines: native, events: progress.handle).run()
            }
        } catch {
            progress.stop()
            throw EngineFailure.wrap(error)
        }
        progress.finish(report)
        if !report.succeeded { throw ExitCode.failed }
    }
}

extension BuildOptions.BuilderChoice: ExpressibleByArgument {}
