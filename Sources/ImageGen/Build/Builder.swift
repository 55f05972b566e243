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

    public init(
        engine: DockerEngine, plan: BuildPlan, options: BuildOptions, platformEngines: [Platform: DockerEngine] = [:],
        events: @escaping @Sendable (BuildEvent) -> Void = { _ in }
    ) {
        self.engine = engine
        self.plan = plan
        self.options = options
        self.platformEngines = platformEngines
        self.events = events
    }

    func engine(for platform: Platform?) -> DockerEngine { platform.flatMap { platformEngines[$0] } ?? engine }

    /// What a layer is built on for one platform: the base's identity, and what FROM names.
    typealias Base = ResolvedBases.Base

    public func run() async throws -> BuildReport {
        let layers = plan.selecting(options.layers)
        let (builder, builderReason) = options.chooseBuilder(ping: engine.ping)
        let uploadsBefore = uploads()
        events(.planned(layers: layers.map(\.displayName)))

        let bases = try await ResolvedBases.resolve(layers, engine: engine(for:), pull: options.pull, pullPlatformBases: true) {
            events(.baseResolved(reference: $0, identity: $1))
        }
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
                                events(
                                    failed
                                        ? .failed(layer: layer.displayName, message: reason, step: nil, lastLines: [], seconds: 0)
                                        : .skipped(layer: layer.displayName, reason: reason))
                                return LayerOutcome(
                                    layer: layer.name, platform: layer.platform, reference: layer.reference, state: failed ? .failed : .skipped,
                                    seconds: 0, message: reason)
                            }
                        case .ready(let resolved):
                            guard running < max(1, options.jobs) else { index += 1; continue }
                            waiting.remove(at: index)
                            running += 1
                            let ahead = Set(prefetched.map(\.layer))
                            group.addTask { try await buildAllPlatforms(platforms, bases: resolved, all: bases, builder: builder, prefetched: ahead) }
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
            builder: builder == .buildkit ? "buildkit" : "classic", builderReason: builderReason)
    }

    /// `POST /build` calls so far, on every engine this run uses.
    func uploads() -> Int {
        var seen = Set<ObjectIdentifier>()
        var total = 0
        for candidate in [engine] + Array(platformEngines.values) where seen.insert(ObjectIdentifier(candidate.statistics)).inserted {
            total += candidate.statistics.count("build")
        }
        return total
    }

    private enum Readiness {
        case wait
        case ready([Platform?: Base])
        case skip(reason: String, failed: Bool)
    }

    /// A layer (all its platforms) is ready when each platform's base is resolved and the layer
    /// it is built on has succeeded on every platform.
    private func readiness(of group: [LayerPlan], outcomes: [String: [LayerOutcome]], bases: ResolvedBases) -> Readiness {
        var resolved: [Platform?: Base] = [:]
        for layer in group {
            switch bases[layer.layer.rootImage, layer.platform] {
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
            if !dependencyOutcomes.allSatisfy(\.state.isAvailable) {
                let how = dependency == group.first?.parentLayer ? "it is built on" : "it copies from"
                return .skip(reason: "layer '\(dependency)' \(how) did not build", failed: false)
            }
        }
        return .ready(resolved)
    }

}
