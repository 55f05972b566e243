import DockerEngine
import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry

/// Builds a plan's layers on a Docker engine: parents before children, independent layers at
/// the same time (up to `jobs`), skipping every layer already built for its content hash and base
/// image. A failed layer stops its descendants only; an engine failure stops the run and is
/// thrown. Images are tagged `<recipe>-<layer>:<hash prefix>` and no other tag is touched.
///
/// With platforms, a layer is built for each of its platforms at once, each on its platform's
/// engine (``platformEngines``, else ``engine`` under emulation), and succeeds only if every
/// platform does: a failure on one leaves no tag of this run on any (the images stay, untagged,
/// and the next build tags them again).
public struct Builder: Sendable {
    public let engine: DockerEngine
    public let plan: BuildPlan
    public let options: BuildOptions
    public let events: @Sendable (BuildEvent) -> Void
    /// A native engine per platform; the others build on ``engine``.
    public let platformEngines: [Platform: DockerEngine]

    public init(engine: DockerEngine, plan: BuildPlan, options: BuildOptions, platformEngines: [Platform: DockerEngine] = [:],
                events: @escaping @Sendable (BuildEvent) -> Void = { _ in }) {
        self.engine = engine
        self.plan = plan
        self.options = options
        self.platformEngines = platformEngines
        self.events = events
    }

    func engine(for platform: Platform?) -> DockerEngine { platform.flatMap { platformEngines[$0] } ?? engine }

    /// What a layer is built on for one platform: the base's identity, and what FROM names.
    struct Base: Sendable {
        var identity: String
        var from: String
    }

    public func run() async throws -> BuildReport {
        let layers = plan.selecting(options.layers)
        let builder = options.builderVersion(ping: engine.ping)
        let uploadsBefore = uploads()
        events(.planned(layers: layers.map(\.displayName)))

        let bases = try await resolveBases(layers)
        let prefetched = await prefetchFromCache(layers, bases: bases)
        // A prefetched image's cache name goes whether or not its layer got to use it.
        func dropPrefetched() async {
            for item in prefetched { try? await engine(for: item.platform).removeImage(item.reference, noPrune: true) }
        }
        var outcomes: [String: [LayerOutcome]] = [:]
        var waiting: [String] = []
        for layer in layers where !waiting.contains(layer.name) { waiting.append(layer.name) }
        do {
            try await withThrowingTaskGroup(of: [LayerOutcome].self) { group in
                var running = 0
                while true {
                    // Start every layer whose parent is ready; settle those that cannot run.
                    var index = 0
                    while index < waiting.count {
                        let name = waiting[index]
                        let platforms = layers.filter { $0.name == name }
                        switch readiness(of: platforms, outcomes: outcomes, bases: bases) {
                        case .wait:
                            index += 1
                        case .skip(let reason, let failed):
                            waiting.remove(at: index)
                            outcomes[name] = platforms.map { layer in
                                events(failed ? .failed(layer: layer.displayName, message: reason, step: nil, lastLines: [], seconds: 0)
                                              : .skipped(layer: layer.displayName, reason: reason))
                                return LayerOutcome(layer: layer.name, platform: layer.platform, reference: layer.reference, state: failed ? .failed : .skipped,
                                                    seconds: 0, message: reason)
                            }
                        case .ready(let resolved):
                            guard running < max(1, options.jobs) else { index += 1; continue }
                            waiting.remove(at: index)
                            running += 1
                            let ahead = Set(prefetched.map(\.layer))
                            group.addTask { try await buildAllPlatforms(platforms, bases: resolved, builder: builder, prefetched: ahead) }
                        }
                    }
                    guard running > 0, let finished = try await group.next() else { break }
                    running -= 1
                    if let name = finished.first?.layer { outcomes[name] = finished }
                }
            }
        } catch {
            await dropPrefetched()
            throw error
        }
        await dropPrefetched()
        return BuildReport(
            outcomes: layers.compactMap { layer in outcomes[layer.name]?.first { $0.platform == layer.platform } },
            uploads: uploads() - uploadsBefore,
            builder: builder == .buildkit ? "buildkit" : "classic")
    }

    /// With a registry cache, the last layer of each chain, when it is missing here and the cache
    /// holds it, is pulled before anything else: its image carries every layer under it, so the
    /// engine fetches them all together (three at a time) instead of each image's few after the
    /// previous image's. The per-layer pulls that follow find their layers present. Best effort:
    /// whatever goes wrong here, the per-layer path meets again and reports.
    private func prefetchFromCache(_ layers: [LayerPlan], bases: [String: Result<Base, BaseFailure>]) async -> [(layer: String, platform: Platform?, reference: ImageReference)] {
        guard let cache = options.cache, !options.noCache else { return [] }
        let parents = Set(layers.compactMap { layer in layer.parentLayer.map { Platform.qualified($0, layer.platform) } })
        var pulled: [(layer: String, platform: Platform?, reference: ImageReference)] = []
        for leaf in layers where !parents.contains(leaf.displayName) {
            guard case .success(let base)? = bases[Self.baseKey(leaf.layer.rootImage, leaf.platform)] else { continue }
            let engine = engine(for: leaf.platform)
            guard (try? await engine.inspectImage(leaf.reference)) == nil else { continue }
            guard case .hit(let reference) = await cache.lookup(leaf, baseIdentity: base.identity) else { continue }
            events(.output(layer: leaf.displayName, line: "cache: pulling \(reference) first: it holds every layer under it"))
            if await cache.prefetch(reference, engine: engine) { pulled.append((leaf.displayName, leaf.platform, reference)) }
        }
        return pulled
    }

    /// `POST /build` calls so far, on every engine this run uses.
    private func uploads() -> Int {
        var seen = Set<ObjectIdentifier>()
        var total = 0
        for candidate in [engine] + Array(platformEngines.values) where seen.insert(ObjectIdentifier(candidate.statistics)).inserted {
            total += candidate.statistics.count("build")
        }
        return total
    }

    /// Each external base, per platform (once per reference and platform), on its engine.
    private func resolveBases(_ layers: [LayerPlan]) async throws -> [String: Result<Base, BaseFailure>] {
        var result: [String: Result<Base, BaseFailure>] = [:]
        let single = layers.filter { $0.platform == nil }.compactMap { layer -> ImageReference? in
            if case .image(let reference) = layer.layer.parent { return reference }
            return nil
        }
        if !single.isEmpty {
            let resolved = try await BaseImages.resolve(single, engine: engine, pull: options.pull) { events(.baseResolved(reference: $0, identity: $1)) }
            for (reference, resolution) in resolved {
                switch resolution {
                case .resolved(let identity): result[Self.baseKey(reference, nil)] = .success(Base(identity: identity, from: reference.description))
                case .missing(let message): result[Self.baseKey(reference, nil)] = .failure(BaseFailure(message: message))
                }
            }
        }
        for layer in layers {
            guard let platform = layer.platform else { continue }
            let reference = layer.layer.rootImage
            let key = Self.baseKey(reference, platform)
            guard result[key] == nil else { continue }
            switch try await PlatformBases.resolve(reference, platform: platform, engine: engine(for: platform)) {
            case .resolved(let base):
                result[key] = .success(Base(identity: base.identity, from: base.from))
                events(.baseResolved(reference: "\(reference) (\(platform))", identity: base.identity))
            case .missing(let message):
                result[key] = .failure(BaseFailure(message: message))
            }
        }
        return result
    }

    struct BaseFailure: Error, Sendable { var message: String }

    static func baseKey(_ reference: ImageReference, _ platform: Platform?) -> String { PlatformBases.key(reference, platform) }

    private enum Readiness {
        case wait
        case ready([Platform?: Base])
        case skip(reason: String, failed: Bool)
    }

    /// A layer (all its platforms) is ready when each platform's base is resolved and the layer
    /// it is built on has succeeded on every platform.
    private func readiness(of group: [LayerPlan], outcomes: [String: [LayerOutcome]], bases: [String: Result<Base, BaseFailure>]) -> Readiness {
        var resolved: [Platform?: Base] = [:]
        for layer in group {
            switch bases[Self.baseKey(layer.layer.rootImage, layer.platform)] {
            case .failure(let failure)?:
                if case .image = layer.layer.parent { return .skip(reason: failure.message, failed: true) }
                return .skip(reason: "its base image \(layer.layer.rootImage) is missing", failed: false)
            case .success(let base)?:
                resolved[layer.platform] = base
            case nil:
                return .skip(reason: "its base image was not resolved", failed: true)
            }
        }
        // Its parent and the layers it copies from, each built on every platform.
        for dependency in group.first?.dependencies ?? [] {
            guard let dependencyOutcomes = outcomes[dependency] else { return .wait }
            if !dependencyOutcomes.allSatisfy({ [.built, .cached, .pulled].contains($0.state) }) {
                let how = dependency == group.first?.parentLayer ? "it is built on" : "it copies from"
                return .skip(reason: "layer '\(dependency)' \(how) did not build", failed: false)
            }
        }
        return .ready(resolved)
    }

    // MARK: - One layer, every platform

    private func buildAllPlatforms(_ group: [LayerPlan], bases: [Platform?: Base], builder: BuildParameters.Builder, prefetched: Set<String> = []) async throws -> [LayerOutcome] {
        let results = try await withThrowingTaskGroup(of: (Int, LayerOutcome, Bool).self) { tasks in
            for (index, layer) in group.enumerated() {
                guard let base = bases[layer.platform] else { continue }
                tasks.addTask {
                    let (outcome, tagged) = try await buildOrReuse(layer, base: base, builder: builder, engine: engine(for: layer.platform),
                                                                     prefetched: prefetched.contains(layer.displayName))
                    return (index, outcome, tagged)
                }
            }
            var results: [(Int, LayerOutcome, Bool)] = []
            for try await result in tasks { results.append(result) }
            return results.sorted { $0.0 < $1.0 }
        }
        var outcomes = results.map(\.1)
        guard group.count > 1, let failed = outcomes.first(where: { $0.state == .failed }) else {
            if outcomes.allSatisfy({ $0.state != .failed }) { try await pushToCache(group, outcomes, bases: bases) }
            return outcomes
        }
        // One platform failed: the layer fails on all, and no tag made in this run stays.
        let reason = "not tagged: \(failed.displayName) failed"
        for (index, result) in results.enumerated() where result.1.state != .failed {
            let layer = group[result.0]
            if result.2 { try? await engine(for: layer.platform).removeImage(layer.reference.description, noPrune: true) }
            events(.failed(layer: layer.displayName, message: reason, step: nil, lastLines: [], seconds: result.1.seconds))
            outcomes[index].state = .failed
            outcomes[index].message = reason
        }
        return outcomes
    }

    /// Pushes the layers just built to the cache registry (the whole layer built on every platform).
    private func pushToCache(_ group: [LayerPlan], _ outcomes: [LayerOutcome], bases: [Platform?: Base]) async throws {
        guard let cache = options.cache else { return }
        for (layer, outcome) in zip(group, outcomes) where outcome.state == .built {
            guard let imageID = outcome.imageID, let base = bases[layer.platform] else { continue }
            if let reference = try await cache.push(layer, image: imageID, baseIdentity: base.identity, engine: engine(for: layer.platform)) {
                events(.pushed(layer: layer.displayName, reference: reference.description))
            }
        }
        await warnIfCacheFailed()
    }

    /// The layer's image for one platform: already built, pulled from the cache, or built; and
    /// whether this run tagged it (so that a failure elsewhere can take the tag back). A layer
    /// this run must make is made under the engine's build lock for its reference: a second run
    /// of the same recipe waits, then finds it built (no two images fight over one tag).
    private func buildOrReuse(_ layer: LayerPlan, base: Base, builder: BuildParameters.Builder, engine: DockerEngine, prefetched: Bool = false) async throws -> (LayerOutcome, Bool) {
        let started = Date()
        events(.started(layer: layer.displayName))
        // A prefetched layer's image is here under the cache's name only: it is pulled, not cached.
        if !options.noCache, prefetched, let pulled = try await pullFromCache(layer, baseIdentity: base.identity, engine: engine, started: started) {
            return (pulled, true)
        }
        if !options.noCache, let reused = try await reuse(layer, base: base, engine: engine, started: started, announce: true) { return reused }

        let held: BuildLock.Held
        do {
            let parent = layer.parentLayer == nil ? base.from : layer.from
            held = try await BuildLock(engine: engine, reference: layer.reference).acquire(image: parent, timeout: options.lockTimeout) { holder in
                events(.output(layer: layer.displayName, line: "waiting for another build of \(layer.reference) (\(holder)) to finish"))
            }
        } catch let failure as BuildLock.Failure {
            return (failed(layer, message: failure.description, tracker: StepTracker(layer: layer.displayName), started: started), false)
        }
        do {
            // What the run that held the lock made is this run's too.
            if !options.noCache, let reused = try await reuse(layer, base: base, engine: engine, started: started, announce: false) {
                await held.release()
                return reused
            }
            let built = try await build(layer, base: base, builder: builder, engine: engine, started: started)
            await held.release()
            return (built, built.state == .built)
        } catch {
            await held.release()
            throw error
        }
    }

    /// The layer's image when this engine has it (tagged, or untagged and tagged again) or the
    /// cache registry does; nil when it must be built.
    private func reuse(_ layer: LayerPlan, base: Base, engine: DockerEngine, started: Date, announce: Bool) async throws -> (LayerOutcome, Bool)? {
        switch try await BuiltImages.status(of: layer, baseIdentity: base.identity, engine: engine, index: RecipeImages(recipe: plan.name, engine: engine)) {
        case .built(let imageID, let size):
            events(.cached(layer: layer.displayName, imageID: imageID))
            return (outcome(layer, .cached, imageID: imageID, size: size, started: started), false)
        case .untagged(let imageID):
            try await engine.tag(imageID, repository: layer.imageName, tag: layer.tag)
            let size = try await engine.inspectImage(imageID)?.size
            events(.cached(layer: layer.displayName, imageID: imageID))
            return (outcome(layer, .cached, imageID: imageID, size: size, started: started), true)
        case .stale(let reason):
            if announce { events(.output(layer: layer.displayName, line: "rebuilding: \(reason)")) }
        case .missing:
            break
        }
        if let pulled = try await pullFromCache(layer, baseIdentity: base.identity, engine: engine, started: started) { return (pulled, true) }
        return nil
    }

    /// The layer's image from the cache registry, when it holds one for this hash and base.
    private func pullFromCache(_ layer: LayerPlan, baseIdentity: String, engine: DockerEngine, started: Date) async throws -> LayerOutcome? {
        guard let cache = options.cache else { return nil }
        switch await cache.lookup(layer, baseIdentity: baseIdentity) {
        case .miss:
            await warnIfCacheFailed()
            return nil
        case .conflict(let reason):
            events(.output(layer: layer.displayName, line: "cache: not using \(reason)"))
            return nil
        case .hit(let reference):
            guard let image = try await cache.pull(reference, for: layer, baseIdentity: baseIdentity, engine: engine) else {
                await warnIfCacheFailed()
                return nil
            }
            events(.pulled(layer: layer.displayName, imageID: image.id, from: reference.description))
            return outcome(layer, .pulled, imageID: image.id, size: image.size, started: started)
        }
    }

    private func warnIfCacheFailed() async {
        if let warning = await options.cache?.takeWarning() { events(.cacheWarning(message: warning)) }
    }

    private func build(_ layer: LayerPlan, base: Base, builder: BuildParameters.Builder, engine: DockerEngine, started: Date) async throws -> LayerOutcome {
        var parameters = BuildParameters(tag: layer.reference.description)
        parameters.buildArgs = [ImageLabels.contentHashArg: layer.contentHash.hex]
        parameters.labels = [ImageLabels.baseImage: base.identity]
        parameters.noCache = options.noCache
        parameters.builder = builder
        parameters.limits = options.limits
        if let platform = layer.platform {
            parameters.platform = platform.description
            // The Dockerfile is the same for every platform; its FROM comes from here.
            parameters.buildArgs[ImageLabels.fromArg] = layer.parentLayer == nil ? base.from : layer.from
        }

        // `COPY --chmod` and the like: BuildKit's, whatever the run's default.
        if layer.needsBuildKit, parameters.builder == .classic {
            guard options.builder != .classic else {
                return failed(layer, message: "its Dockerfile uses COPY --chmod (copy mode:), which only BuildKit builds; build with --builder auto or buildkit",
                              tracker: StepTracker(layer: layer.displayName), started: started)
            }
            parameters.builder = .buildkit
        }
        let entries = layer.entries(buildCA: options.buildCA)
        var tracker = StepTracker(layer: layer.displayName)
        let emit = events
        for attempt in 1...2 {
            events(.uploading(layer: layer.displayName, bytes: entries.fileBytes))
            tracker = StepTracker(layer: layer.displayName)
            do {
                for try await message in try await engine.build(context: ChunkSequence.tar(entries), parameters: parameters) {
                    tracker.handle(message, emit: emit)
                }
            } catch let error as DockerEngineError {
                // The engine refusing the build (a bad Dockerfile, a bad parameter) fails this layer;
                // an engine that cannot be reached fails the run.
                guard let message = error.refusalMessage else { throw error }
                return failed(layer, message: message, tracker: tracker, started: started)
            }
            tracker.finish(emit: emit)
            // The classic builder reuses untagged images of earlier builds' steps; one removed
            // while this build stood on it (another build's cleanup of the same steps) fails the
            // next step with "unable to find image". Nothing of this layer was wrong: once more.
            guard attempt == 1, let error = tracker.error, Self.lostCachedStep(error) else { break }
            events(.output(layer: layer.displayName, line: "the engine removed a cached step's image during the build (\(error)); building the layer again"))
        }
        if let error = tracker.error { return failed(layer, message: Self.explain(error, platform: layer.platform), tracker: tracker, started: started) }
        guard let image = try await engine.inspectImage(layer.reference) else {
            return failed(layer, message: "the build ended without tagging \(layer.reference)", tracker: tracker, started: started)
        }
        if let id = tracker.imageID, id != image.id {
            return failed(layer, message: "the engine reported image \(id) but \(layer.reference) is \(image.id)", tracker: tracker, started: started)
        }
        let seconds = elapsed(since: started)
        events(.built(layer: layer.displayName, imageID: image.id, seconds: seconds))
        return LayerOutcome(layer: layer.name, platform: layer.platform, reference: layer.reference, state: .built, imageID: image.id, size: image.size, seconds: seconds)
    }

    /// The classic builder's error when a step's cached image vanished under it.
    static func lostCachedStep(_ error: String) -> Bool {
        error.contains("unable to find image \"sha256:") || error.contains("No such image: sha256:")
    }

    /// A step that could not even start on a foreign platform says how to give the machine an
    /// emulator.
    static func explain(_ error: String, platform: Platform?) -> String {
        guard let platform, platform != Platform.host, error.contains("exec format error") else { return error }
        return "\(error): this machine cannot run \(platform) programs; register QEMU emulation (scripts/binfmt: Debian's qemu-user-static and binfmt_misc), or build \(platform) on a native engine with --engine \(platform)=URL"
    }

    private func outcome(_ layer: LayerPlan, _ state: LayerOutcome.State, imageID: ImageID?, size: Int64?, started: Date) -> LayerOutcome {
        LayerOutcome(layer: layer.name, platform: layer.platform, reference: layer.reference, state: state, imageID: imageID, size: size, seconds: elapsed(since: started))
    }

    private func failed(_ layer: LayerPlan, message: String, tracker: StepTracker, started: Date) -> LayerOutcome {
        let seconds = elapsed(since: started)
        events(.failed(layer: layer.displayName, message: message, step: tracker.currentStep, lastLines: tracker.lastLines, seconds: seconds))
        return LayerOutcome(layer: layer.name, platform: layer.platform, reference: layer.reference, state: .failed, seconds: seconds, message: message)
    }

    private func elapsed(since start: Date) -> Double { Date().timeIntervalSince(start) }
}
