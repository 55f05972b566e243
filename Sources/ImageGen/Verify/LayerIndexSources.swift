import ContainerBasics
import DockerEngine
import Foundation
import LayerInspection
import Planning
import RegistryCache

/// Where verify learns what an image layer holds. Each source is asked, in order, for the layers
/// the ones before it did not have: the indexes kept from earlier runs, those shared in the cache
/// registry, the engine's storage (read in place, or by a helper container), and last the
/// engine's export, which has every layer. What a source reads (not what it found kept) fills
/// the kept indexes for next time.
protocol LayerIndexSource: Sendable {
    /// The layers of `wanted` this source can give, each with how it came to know it.
    func read(_ wanted: Set<Digest>, of images: [VerifiedImage]) async throws -> [Digest: (LayerBlob, LayerSource)]
}

/// An image whose layers are read, with the diff IDs of its layers (bottom first).
struct VerifiedImage: Sendable {
    /// How the engine names it (a tag or an ID).
    var reference: String
    var inspect: ImageInspect
    var diffIDs: [Digest] { inspect.rootFS?.layers ?? [] }
}

/// Indexes this machine kept from earlier runs, by diff ID.
struct KeptIndexes: LayerIndexSource {
    let store: LayerIndexStore
    let options: ImageExport.Options

    func read(_ wanted: Set<Digest>, of images: [VerifiedImage]) async throws -> [Digest: (LayerBlob, LayerSource)] {
        let ids = Array(wanted), store = self.store, options = self.options
        // Parsing a large index takes a while: one per core.
        let loaded = ids.map { store.load($0, options: options) }
        var found: [Digest: (LayerBlob, LayerSource)] = [:]
        for (id, blob) in zip(ids, loaded) { if let blob { found[id] = (blob, .index) } }
        return found
    }
}

/// Indexes other runners shared in the cache registry.
struct SharedIndexes: LayerIndexSource {
    let session: RegistryCacheSession
    let options: ImageExport.Options

    func read(_ wanted: Set<Digest>, of images: [VerifiedImage]) async throws -> [Digest: (LayerBlob, LayerSource)] {
        let options = self.options, session = self.session
        return await withTaskGroup(of: (Digest, LayerBlob?).self) { group in
            for id in wanted { group.addTask { (id, await session.fetchIndex(id, options: options)) } }
            var found: [Digest: (LayerBlob, LayerSource)] = [:]
            for await (id, blob) in group { if let blob { found[id] = (blob, .registry) } }
            return found
        }
    }
}

/// The engine's export of the images (`GET /images/get`): every layer, read and scanned once.
struct EngineExport: LayerIndexSource {
    let engine: DockerEngine
    let options: ImageExport.Options

    func read(_ wanted: Set<Digest>, of images: [VerifiedImage]) async throws -> [Digest: (LayerBlob, LayerSource)] {
        let references = images.map(\.reference)
        let analysis = try await ImageExport.analyze(references, engine: engine, options: options)
        var found: [Digest: (LayerBlob, LayerSource)] = [:]
        for image in images {
            let reference = image.reference
            let ids = image.diffIDs
            guard let keys = analysis.images[reference] ?? analysis.images["docker.io/library/" + reference], keys.count == ids.count else { continue }
            // The export lists an image's layers in the order of its diff IDs.
            for (id, key) in zip(ids, keys) where wanted.contains(id) && found[id] == nil {
                if let blob = analysis.blobs[key] { found[id] = (blob, .export) }
            }
        }
        return found
    }
}
