import DockerEngine
import Foundation

/// Builds a plan's layers on a Docker engine: parents before children, independent layers at
/// the same time (up to `jobs`), skipping every layer already built for its content hash and base
/// image. A failed layer stops its descendants only; an engine failure stops the run and is
/// thrown. Images are tagged `<recipe>-<layer>:<hash prefix>` and no other tag is touched.
public struct Builder: Sendable {
    public let engine: DockerEngine
    public let plan: BuildPlan
    public let options: BuildOptions
    public let events: @Sendable (BuildEvent) -> Void

    public init(engine: DockerEngine, plan: BuildPlan, options: BuildOptions, events: @escaping @Sendable (BuildEvent) -> Void = { _ in }) {
        self.engine = engine
        self.plan = plan
        self.options = options
        self.events = events
    }

    public func run() async throws -> BuildReport {
        let layers = plan.selecting(options.layers)
        let builder = options.builderVersion(ping: engine.ping)
        let uploadsBefore = engine.statistics.count("build")
        events(.planned(layers: layers.map(\.name)))

        let roots = layers.compactMap { layer -> ImageReference? in
            if case .image(let reference) = layer.layer.parent { return reference }
            return nil
        }
        let bases = try await BaseImages.resolve(roots, engine: engine, pull: options.pull) { events(.baseResolved(reference: $0, identity: $1)) }

        let images = RecipeImages(recipe: plan.name, engine: engine)
        var outcomes: [String: LayerOutcome] = [:]
        var waiting = layers
        try await withThrowingTaskGroup(of: LayerOutcome.self) { group in
            var running = 0
            while true {
                // Start every layer whose parent is ready; settle those that cannot run.
                var index = 0
                while index < waiting.count {
                    let layer = waiting[index]
                    switch readiness(of: layer, outcomes: outcomes, bases: bases) {
                    case .wait:
                        index += 1
                    case .skip(let reason, let failed):
                        waiting.remove(at: index)
                        let outcome = LayerOutcome(layer: layer.name, reference: layer.reference, state: failed ? .failed : .skipped, seconds: 0, message: reason)
                        outcomes[layer.name] = outcome
                        events(failed ? .failed(layer: layer.name, message: reason, step: nil, lastLines: [], seconds: 0) : .skipped(layer: layer.name, reason: reason))
                    case .ready(let baseIdentity):
                        guard running < max(1, options.jobs) else { index += 1; continue }
                        waiting.remove(at: index)
                        running += 1
                        group.addTask { try await buildOrReuse(layer, baseIdentity: baseIdentity, builder: builder, images: images) }
                    }
                }
                guard running > 0, let outcome = try await group.next() else { break }
                running -= 1
                outcomes[outcome.layer] = outcome
            }
        }
        return BuildReport(
            outcomes: layers.compactMap { outcomes[$0.name] },
            uploads: engine.statistics.count("build") - uploadsBefore,
            builder: builder == .buildkit ? "buildkit" : "classic")
    }

    private enum Readiness {
        case wait
        case ready(baseIdentity: String)
        case skip(reason: String, failed: Bool)
    }

    private func readiness(of layer: LayerPlan, outcomes: [String: LayerOutcome], bases: [ImageReference: BaseImages.Resolution]) -> Readiness {
        switch bases[layer.layer.rootImage] {
        case .missing(let message)?:
            if case .image = layer.layer.parent { return .skip(reason: message, failed: true) }
            return .skip(reason: "its base image \(layer.layer.rootImage) is missing", failed: false)
        case .resolved(let identity)?:
            guard let parent = layer.parentLayer else { return .ready(baseIdentity: identity) }
            switch outcomes[parent]?.state {
            case nil: return .wait
            case .built?, .cached?, .pulled?: return .ready(baseIdentity: identity)
            case .failed?, .skipped?: return .skip(reason: "layer '\(parent)' it is built on did not build", failed: false)
            }
        case nil:
            return .skip(reason: "its base image was not resolved", failed: true)
        }
    }

    // MARK: - One layer

    private func buildOrReuse(_ layer: LayerPlan, baseIdentity: String, builder: BuildParameters.Builder, images: RecipeImages) async throws -> LayerOutcome {
        let started = Date()
        events(.started(layer: layer.name))
        if !options.noCache {
            switch try await BuiltImages.status(of: layer, baseIdentity: baseIdentity, engine: engine, index: images) {
            case .built(let imageID, let size):
                events(.cached(layer: layer.name, imageID: imageID))
                return LayerOutcome(layer: layer.name, reference: layer.reference, state: .cached, imageID: imageID, size: size, seconds: elapsed(since: started))
            case .untagged(let imageID):
                try await engine.tag(imageID, repository: layer.imageName, tag: layer.tag)
                let size = try await engine.inspectImage(imageID)?.size
                events(.cached(layer: layer.name, imageID: imageID))
                return LayerOutcome(layer: layer.name, reference: layer.reference, state: .cached, imageID: imageID, size: size, seconds: elapsed(since: started))
            case .stale(let reason):
                events(.output(layer: layer.name, line: "rebuilding: \(reason)"))
            case .missing:
                break
            }
            if let pulled = try await pullFromCache(layer, baseIdentity: baseIdentity, started: started) { return pulled }
        }
        let outcome = try await build(layer, baseIdentity: baseIdentity, builder: builder, started: started)
        if outcome.state == .built, let imageID = outcome.imageID, let cache = options.cache {
            if let reference = try await cache.push(layer, image: imageID, baseIdentity: baseIdentity, engine: engine) {
                events(.pushed(layer: layer.name, reference: reference.description))
            }
            await warnIfCacheFailed()
        }
        return outcome
    }

    /// The layer's image from the cache registry, when it holds one for this hash and base.
    private func pullFromCache(_ layer: LayerPlan, baseIdentity: String, started: Date) async throws -> LayerOutcome? {
        guard let cache = options.cache else { return nil }
        switch await cache.lookup(layer, baseIdentity: baseIdentity) {
        case .miss:
            await warnIfCacheFailed()
            return nil
        case .conflict(let reason):
            events(.output(layer: layer.name, line: "cache: not using \(reason)"))
            return nil
        case .hit(let reference):
            guard let image = try await cache.pull(reference, for: layer, baseIdentity: baseIdentity, engine: engine) else {
                await warnIfCacheFailed()
                return nil
            }
            events(.pulled(layer: layer.name, imageID: image.id, from: reference.description))
            return LayerOutcome(layer: layer.name, reference: layer.reference, state: .pulled, imageID: image.id, size: image.size, seconds: elapsed(since: started))
        }
    }

    private func warnIfCacheFailed() async {
        if let warning = await options.cache?.takeWarning() { events(.cacheWarning(message: warning)) }
    }

    private func build(_ layer: LayerPlan, baseIdentity: String, builder: BuildParameters.Builder, started: Date) async throws -> LayerOutcome {
        var parameters = BuildParameters(tag: layer.reference.description)
        parameters.buildArgs = [ImageLabels.contentHashArg: layer.contentHash.hex]
        parameters.labels = [ImageLabels.baseImage: baseIdentity]
        parameters.noCache = options.noCache
        parameters.builder = builder
        parameters.limits = options.limits

        let entries = layer.entries(buildCA: options.buildCA)
        let context = ChunkSequence.tar(entries)
        events(.uploading(layer: layer.name, bytes: entries.fileBytes))
        var tracker = StepTracker(layer: layer.name)
        let emit = events
        do {
            for try await message in try await engine.build(context: context, parameters: parameters) {
                tracker.handle(message, emit: emit)
            }
        } catch let error as DockerEngineError {
            // The engine refusing the build (a bad Dockerfile, a bad parameter) fails this layer;
            // an engine that cannot be reached fails the run.
            guard case .http(_, _, let message) = error else { throw error }
            return failed(layer, message: message, tracker: tracker, started: started)
        }
        tracker.finish(emit: emit)
        if let error = tracker.error { return failed(layer, message: error, tracker: tracker, started: started) }
        guard let image = try await engine.inspectImage(layer.reference) else {
            return failed(layer, message: "the build ended without tagging \(layer.reference)", tracker: tracker, started: started)
        }
        if let id = tracker.imageID, id != image.id {
            return failed(layer, message: "the engine reported image \(id) but \(layer.reference) is \(image.id)", tracker: tracker, started: started)
        }
        let seconds = elapsed(since: started)
        events(.built(layer: layer.name, imageID: image.id, seconds: seconds))
        return LayerOutcome(layer: layer.name, reference: layer.reference, state: .built, imageID: image.id, size: image.size, seconds: seconds)
    }

    private func failed(_ layer: LayerPlan, message: String, tracker: StepTracker, started: Date) -> LayerOutcome {
        let seconds = elapsed(since: started)
        events(.failed(layer: layer.name, message: message, step: tracker.currentStep, lastLines: tracker.lastLines, seconds: seconds))
        return LayerOutcome(layer: layer.name, reference: layer.reference, state: .failed, seconds: seconds, message: message)
    }

    private func elapsed(since start: Date) -> Double { Date().timeIntervalSince(start) }
}
