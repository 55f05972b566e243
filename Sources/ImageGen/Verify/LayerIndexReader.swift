import ContainerBasics
import DockerEngine
import LayerInspection
import Planning
import RegistryCache

/// The layer indexes of a plan's built images, for verify and for what reads images after it
/// (inventories, SBOMs, diffs): each ``LayerIndexSource`` in turn for the layers the ones before
/// it lacked. What was read (not found kept) fills the kept indexes, and is shared in the cache
/// registry when there is one.
struct LayerIndexReader: Sendable {
    let engine: DockerEngine
    let options: Verifier.Options

    /// Every layer of the images of `layers`, by diff ID, and where each came from.
    func read(_ layers: [LayerPlan], inspections: Inspections) async throws -> ([Digest: LayerBlob], [Digest: LayerSource]) {
        var images: [VerifiedImage] = []
        for layer in layers {
            if let inspect = try await inspections.image(layer.reference) { images.append(VerifiedImage(reference: layer.reference.description, inspect: inspect)) }
        }
        return try await read(images)
    }

    /// Every layer of `images`, by diff ID, and where each came from.
    func read(_ images: [VerifiedImage]) async throws -> ([Digest: LayerBlob], [Digest: LayerSource]) {
        var blobs: [Digest: LayerBlob] = [:]
        var sources: [Digest: LayerSource] = [:]
        var missing = Set(images.flatMap(\.diffIDs))
        for source in indexSources() where !missing.isEmpty {
            for (id, (blob, how)) in try await source.read(missing, of: images) {
                blobs[id] = blob
                sources[id] = how
                missing.remove(id)
                if how != .index { options.layerCache?.store(blob, diffID: id, options: options.export) }
            }
        }
        if let shared = options.sharedIndex {
            await share(blobs, read: sources, with: shared)
            if let warning = await shared.takeWarning() { options.notes("warning: " + warning) }
        }
        return (blobs, sources)
    }

    /// The sources of layer indexes, in the order they are asked.
    private func indexSources() -> [any LayerIndexSource] {
        var sources: [any LayerIndexSource] = []
        if let store = options.layerCache { sources.append(KeptIndexes(store: store, options: options.export)) }
        if let shared = options.sharedIndex { sources.append(SharedIndexes(session: shared, options: options.export)) }
        if options.layersFrom != .export {
            sources.append(
                EngineStorage(
                    engine: engine, mode: options.layersFrom, options: options.export, helperBinary: options.helperBinary,
                    directories: options.storageDirectories, notes: options.notes))
        }
        sources.append(EngineExport(engine: engine, options: options.export))
        return sources
    }

    /// Shares the indexes of the layers read in this run (not those that came from an index).
    private func share(_ blobs: [Digest: LayerBlob], read sources: [Digest: LayerSource], with shared: RegistryCacheSession) async {
        let exportOptions = options.export
        let read = sources.filter { [.storage, .helper, .export].contains($0.value) }.keys.sorted { $0.description < $1.description }
        await withTaskGroup(of: Void.self) { group in
            for (index, id) in read.enumerated() {
                guard let blob = blobs[id] else { continue }
                if index >= 4 { await group.next() }
                group.addTask { await shared.pushIndex(blob, diffID: id, options: exportOptions) }
            }
        }
    }
}
