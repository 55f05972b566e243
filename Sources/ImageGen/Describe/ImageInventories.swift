import ContainerBasics
import DockerEngine
import CSystemShims
import Foundation
import ImageGenValues
import Inventory
import LayerInspection
import Planning

/// A built image of the plan, with what it holds.
public struct DescribedImage: Sendable {
    public var layer: LayerPlan
    public var inspect: ImageInspect
    public var inventory: PackageInventory
    /// The image layers its recipe layer adds over its parent.
    public var addedLayers: Range<Int>

    /// What an SBOM says the image is: its release version when it has one, else its content-hash tag.
    public func subject(manifestDigest: Digest? = nil, repositoryURL: String? = nil) -> SBOMSubject {
        let labels = inspect.labels
        return SBOMSubject(
            name: repositoryURL ?? layer.reference.repository.description, version: labels[ImageLabels.OCI.version] ?? layer.reference.tag?.value ?? "latest",
            imageID: inspect.id, manifestDigest: manifestDigest, repositoryURL: repositoryURL, created: inspect.created ?? "1970-01-01T00:00:00Z",
            architecture: inspect.architecture ?? "amd64", labels: labels, toolVersion: ImageGenVersion.current)
    }
}

/// Why images cannot be described.
public struct DescribeError: ClassifiedError, Equatable {
    public var description: String
    public var exitStatus: ExitStatus { .failed }

    public init(_ description: String) { self.description = description }
}

/// The package inventories of a plan's built images, their layers read the way verify reads them
/// (kept indexes first, so after a verify nothing is read again).
public struct ImageInventories: Sendable {
    public let engine: DockerEngine
    public let plan: BuildPlan
    public let options: Verifier.Options

    public init(engine: DockerEngine, plan: BuildPlan, options: Verifier.Options = Verifier.Options()) {
        self.engine = engine
        self.plan = plan
        self.options = options
    }

    /// The images of the layers named (all when empty), each built for its current content hash;
    /// `files`: their packages list their files too (else only their bytes).
    public func read(layers names: [String] = [], files: Bool = false) async throws -> [DescribedImage] {
        let layers = names.isEmpty ? plan.layers : plan.layers.filter { names.contains($0.name) }
        let state = try await EngineState.check(plan, layers: layers, engine: engine)
        let notBuilt = layers.filter { layer in
            if case .built? = state.layers[layer.key] { return false }
            return true
        }
        guard notBuilt.isEmpty else {
            throw DescribeError("not built for the recipe as it is: \(notBuilt.map(\.displayName).joined(separator: ", ")) (run imagegen build)")
        }
        let inspections = Inspections(engine: engine)
        var found: [(layer: LayerPlan, inspect: ImageInspect, diffIDs: [Digest])] = []
        for layer in layers {
            guard let inspect = try await inspections.image(layer.reference), let diffIDs = inspect.rootFS?.layers else {
                throw DescribeError("\(layer.reference) vanished while it was read")
            }
            found.append((layer, inspect, diffIDs))
        }
        // Layers not indexed yet are read as verify reads them (and kept); then the inventories
        // are made a layer at a time from the kept indexes, each let go after its turn.
        var inMemory: [Digest: LayerBlob] = [:]
        let store = options.layerCache
        let missing = Set(found.flatMap(\.diffIDs)).filter { id in store?.contains(id, options: options.export) != true }
        if !missing.isEmpty {
            (inMemory, _) = try await LayerIndexReader(engine: engine, options: options).read(
                found.filter { $0.diffIDs.contains(where: missing.contains) }.map { VerifiedImage(reference: $0.layer.reference.description, inspect: $0.inspect) })
            // What the kept indexes now hold is read again from there, a layer at a time.
            inMemory = inMemory.filter { store?.contains($0.key, options: options.export) != true }
        }
        let exportOptions = options.export
        // A family's images are each the one below plus layers: one walk of the tree their
        // chains make gives every inventory, each layer read once.
        let chains = found.map(\.diffIDs)
        let made = await BlockingWork.run { [inMemory] in
            PackageInventory.snapshots(
                chains: chains,
                layer: { id in
                    // What reading the layer before made and dropped goes back to the system
                    // first: a large index is tens of MiB while it is read.
                    imagegen_release_free_memory()
                    return inMemory[id] ?? store?.load(id, options: exportOptions)
                }, files: files)
        }
        guard let inventories = made?.mapValues(\.inventory) else {
            throw DescribeError("a layer of \(found.map(\.layer.reference.description).joined(separator: ", ")) could not be read")
        }
        var images: [DescribedImage] = []
        for (layer, inspect, diffIDs) in found {
            let parentCount = try await parentLayerCount(layer, inspections: inspections)
            guard let inventory = inventories[diffIDs] else { throw DescribeError("\(layer.reference) could not be read") }
            images.append(
                DescribedImage(layer: layer, inspect: inspect, inventory: inventory, addedLayers: min(parentCount, diffIDs.count)..<diffIDs.count))
        }
        return images
    }

    /// How many of the image's layers its parent (a recipe layer, or the base) has.
    private func parentLayerCount(_ layer: LayerPlan, inspections: Inspections) async throws -> Int {
        switch layer.layer.parent {
        case .layer(let name):
            guard let parent = plan.layer(named: name, platform: layer.platform) else { return 0 }
            return try await inspections.image(parent.reference)?.rootFS?.layers?.count ?? 0
        case .image(let reference):
            return try await inspections.image(reference.description)?.rootFS?.layers?.count ?? 0
        }
    }
}
