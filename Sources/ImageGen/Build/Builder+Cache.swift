import ContainerBasics
import DockerEngine
import Foundation
import ImageGenValues
import Planning
import Recipes
import RegistryCache

/// The cache registry in a build: the leaves prefetched first, a layer pulled instead of built,
/// and what was built pushed.
extension Builder {
    /// With a registry cache, the last layer of each chain, when it is missing here and the cache
    /// holds it, is pulled before anything else: its image carries every layer under it, so the
    /// engine fetches them all together (three at a time) instead of each image's few after the
    /// previous image's. The per-layer pulls that follow find their layers present. Best effort:
    /// whatever goes wrong here, the per-layer path meets again and reports.
    func prefetchFromCache(_ layers: [LayerPlan], bases: ResolvedBases) async -> [(layer: String, platform: Platform?, reference: ImageReference)] {
        // Only with --load: otherwise a layer the cache holds is not pulled at all.
        guard let cache = options.cache, options.load, !options.noCache else { return [] }
        let parents = Set(layers.compactMap { layer in layer.parentLayer.map { Platform.qualified($0, layer.platform) } })
        var pulled: [(layer: String, platform: Platform?, reference: ImageReference)] = []
        for leaf in layers where !parents.contains(leaf.displayName) {
            guard case .success(let base)? = bases[leaf.layer.rootImage, leaf.platform] else { continue }
            let engine = engine(for: leaf.platform)
            guard (try? await engine.inspectImage(leaf.reference)) == nil else { continue }
            guard case .hit(let reference) = await cache.lookup(leaf, baseIdentity: base.identity) else { continue }
            events(.output(layer: leaf.displayName, line: "cache: pulling \(reference) first: it holds every layer under it"))
            if await cache.prefetch(reference, engine: engine) { pulled.append((leaf.displayName, leaf.platform, reference)) }
        }
        return pulled
    }

    /// Pushes the layers just built to the cache registry (the whole layer built on every platform),
    /// and those found built here that it lacks (a persistent runner, or a cache that was wiped,
    /// would else leave other runners without them): ``RegistryCacheSession/push`` looks first.
    func pushToCache(_ group: [LayerPlan], _ outcomes: [LayerOutcome], bases: [Platform?: Base]) async throws {
        guard let cache = options.cache else { return }
        for (layer, outcome) in zip(group, outcomes) where outcome.state == .built || outcome.state == .cached {
            guard let imageID = outcome.imageID, let base = bases[layer.platform] else { continue }
            if let reference = try await cache.push(layer, image: imageID, baseIdentity: base.identity, engine: engine(for: layer.platform)) {
                events(.pushed(layer: layer.displayName, reference: reference.description))
            }
        }
        await warnIfCacheFailed()
    }

    /// The layer decided from the cache registry's manifest alone: there for this hash and base,
    /// not pulled (with `--load`, pulled as before).
    func findInCache(_ layer: LayerPlan, baseIdentity: String, engine: DockerEngine, started: Date) async throws -> LayerOutcome? {
        guard let cache = options.cache else { return nil }
        if options.load { return try await pullFromCache(layer, baseIdentity: baseIdentity, engine: engine, started: started) }
        guard let reference = await cacheHit(layer, baseIdentity: baseIdentity, cache: cache), let imageID = await cache.imageID(of: reference) else { return nil }
        events(.inRegistry(layer: layer.displayName, imageID: imageID, at: reference.description))
        return outcome(layer, .inRegistry, imageID: imageID, size: nil, started: started)
    }

    /// What the cache holds for the layer, or nil: a miss (with the cache's warning if it failed)
    /// or a tag made from something else (said, and not used).
    private func cacheHit(_ layer: LayerPlan, baseIdentity: String, cache: RegistryCacheSession) async -> ImageReference? {
        switch await cache.lookup(layer, baseIdentity: baseIdentity) {
        case .miss:
            await warnIfCacheFailed()
            return nil
        case .conflict(let reason):
            events(.output(layer: layer.displayName, line: "cache: not using \(reason)"))
            return nil
        case .hit(let reference):
            return reference
        }
    }

    /// The layers `layer` is built on or copies from, pulled from the cache registry where this
    /// engine lacks them (they were decided in the registry, not pulled): once per layer that is
    /// built, and only then.
    func pullDependencies(of layer: LayerPlan, bases: ResolvedBases, engine: DockerEngine) async throws {
        guard let cache = options.cache else { return }
        for name in layer.dependencies {
            guard let dependency = plan.layer(named: name, platform: layer.platform),
                case .success(let base)? = bases[dependency.layer.rootImage, dependency.platform]
            else { continue }
            if case .built = try await BuiltImages.status(
                of: dependency, baseIdentity: base.identity, engine: engine, index: RecipeImages(recipe: plan.name, engine: engine))
            {
                continue
            }
            guard case .hit(let reference) = await cache.lookup(dependency, baseIdentity: base.identity) else { continue }
            events(.output(layer: layer.displayName, line: "cache: pulling \(reference), which it is built on"))
            if let image = try await cache.pull(reference, for: dependency, baseIdentity: base.identity, engine: engine) {
                events(.pulled(layer: dependency.displayName, imageID: image.id, from: reference.description))
            }
        }
    }

    /// The layer's image from the cache registry, when it holds one for this hash and base.
    func pullFromCache(_ layer: LayerPlan, baseIdentity: String, engine: DockerEngine, started: Date) async throws -> LayerOutcome? {
        guard let cache = options.cache, let reference = await cacheHit(layer, baseIdentity: baseIdentity, cache: cache) else { return nil }
        guard let image = try await cache.pull(reference, for: layer, baseIdentity: baseIdentity, engine: engine) else {
            await warnIfCacheFailed()
            return nil
        }
        events(.pulled(layer: layer.displayName, imageID: image.id, from: reference.description))
        return outcome(layer, .pulled, imageID: image.id, size: image.size, started: started)
    }

    func warnIfCacheFailed() async {
        if let warning = await options.cache?.takeWarning() { events(.cacheWarning(message: warning)) }
    }
}
