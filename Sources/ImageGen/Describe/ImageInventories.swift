import ContainerBasics
import DockerEngine
import Foundation
import ImageGenValues
import Inventory
import LayerInspection
import Planning

/// A built image of the plan, with what it holds.
public struct DescribedImage: Sendable {
    public var layer: LayerPlan
    public var inspect: ImageInspect
    /// The image's layers, bottom first.
    public var blobs: [LayerBlob]
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

    /// The images of the layers named (all when empty), each built for its current content hash.
    public func read(layers names: [String] = []) async throws -> [DescribedImage] {
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
        let (blobs, _) = try await LayerIndexReader(engine: engine, options: options).read(layers, inspections: inspections)
        var images: [DescribedImage] = []
        for layer in layers {
            guard let inspect = try await inspections.image(layer.reference), let diffIDs = inspect.rootFS?.layers,
                diffIDs.allSatisfy({ blobs[$0] != nil })
            else { throw DescribeError("\(layer.reference) vanished while it was read") }
            let layerBlobs = diffIDs.compactMap { blobs[$0] }
            let parentCount = try await parentLayerCount(layer, inspections: inspections)
            images.append(
                DescribedImage(
                    layer: layer, inspect: inspect, blobs: layerBlobs, inventory: PackageInventory.make(layerBlobs),
                    addedLayers: min(parentCount, layerBlobs.count)..<layerBlobs.count))
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
