import ContainerBasics
import DockerEngine
import Foundation
import ImageGenValues
import Planning
import Recipes
import RegistryCache

/// One layer: on every platform at once, each already built, pulled from the cache, or built
/// under the engine's build lock.
extension Builder {
    func buildAllPlatforms(
        _ group: [LayerPlan], bases: [Platform?: Base], all: ResolvedBases, builder: BuildParameters.Builder, prefetched: Set<String> = []
    ) async throws -> [LayerOutcome] {
        let results = try await withThrowingTaskGroup(of: (Int, LayerOutcome, Bool).self) { tasks in
            for (index, layer) in group.enumerated() {
                guard let base = bases[layer.platform] else { continue }
                tasks.addTask {
                    let (outcome, tagged) = try await buildOrReuse(
                        layer, base: base, all: all, builder: builder, engine: engine(for: layer.platform),
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

    /// The layer's image for one platform: already built, pulled from the cache, or built; and
    /// whether this run tagged it (so that a failure elsewhere can take the tag back). A layer
    /// this run must make is made under the engine's build lock for its reference: a second run
    /// of the same recipe waits, then finds it built (no two images fight over one tag).
    func buildOrReuse(
        _ layer: LayerPlan, base: Base, all: ResolvedBases, builder: BuildParameters.Builder, engine: DockerEngine, prefetched: Bool = false
    ) async throws -> (LayerOutcome, Bool) {
        let started = Date()
        events(.started(layer: layer.displayName))
        // A prefetched layer's image is here under the cache's name only: it is pulled, not cached.
        if !options.noCache, prefetched, let pulled = try await pullFromCache(layer, baseIdentity: base.identity, engine: engine, started: started) {
            return (pulled, true)
        }
        if !options.noCache, let reused = try await reuse(layer, base: base, engine: engine, started: started, announce: true) { return reused }

        // It is built here: what it stands on must be here too.
        if !options.noCache { try await pullDependencies(of: layer, bases: all, engine: engine) }
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
    func reuse(_ layer: LayerPlan, base: Base, engine: DockerEngine, started: Date, announce: Bool) async throws -> (LayerOutcome, Bool)? {
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
        if let found = try await findInCache(layer, baseIdentity: base.identity, engine: engine, started: started) { return (found, found.state == .pulled) }
        return nil
    }

    func build(_ layer: LayerPlan, base: Base, builder: BuildParameters.Builder, engine: DockerEngine, started: Date) async throws -> LayerOutcome {
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
                return failed(
                    layer, message: "its Dockerfile uses COPY --chmod (copy mode:), which only BuildKit builds; build with --builder auto or buildkit",
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
        return
            "\(error): this machine cannot run \(platform) programs; register QEMU emulation (scripts/binfmt: Debian's qemu-user-static and binfmt_misc), or build \(platform) on a native engine with --engine \(platform)=URL"
    }

    func outcome(_ layer: LayerPlan, _ state: LayerOutcome.State, imageID: ImageID?, size: Int64?, started: Date) -> LayerOutcome {
        LayerOutcome(layer: layer.name, platform: layer.platform, reference: layer.reference, state: state, imageID: imageID, size: size, seconds: elapsed(since: started))
    }

    func failed(_ layer: LayerPlan, message: String, tracker: StepTracker, started: Date) -> LayerOutcome {
        let seconds = elapsed(since: started)
        events(.failed(layer: layer.displayName, message: message, step: tracker.currentStep, lastLines: tracker.lastLines, seconds: seconds))
        return LayerOutcome(layer: layer.name, platform: layer.platform, reference: layer.reference, state: .failed, seconds: seconds, message: message)
    }

    func elapsed(since start: Date) -> Double { Date().timeIntervalSince(start) }
}
