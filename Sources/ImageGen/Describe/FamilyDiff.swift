import CSystemShims
import ContainerBasics
import ContainerRegistry
import DockerEngine
import Foundation
import ImageGenValues
import Inventory
import LayerInspection
import Planning
import RegistryCache

/// `imagegen diff OLD NEW`: what changed, layer by layer, between two versions of a family, a
/// version and the current build, or two images. An image in the engine is read as verify reads
/// it; one only in a registry is read from its manifest and config, its layers from their indexes
/// (kept on this machine, or shared in the cache registry) without pulling it; only an image with
/// a layer no index knows is pulled to read that layer.
public struct FamilyDiff: Sendable {
    /// One side of the comparison, as written on the command line.
    public enum Side: Sendable, Equatable, CustomStringConvertible {
        /// The recipe's layers as built now (their content-hash images).
        case current
        /// A released version of the family (each layer's exact release tag).
        case version(SemVer)
        /// One image, in the engine or a registry.
        case reference(String)

        public init(parsing text: String) {
            if text == "current" || text == "." {
                self = .current
            } else if let version = try? SemVer(parsing: text.hasPrefix("v") ? String(text.dropFirst()) : text) {
                self = .version(version)
            } else {
                self = .reference(text)
            }
        }

        public var description: String {
            switch self {
            case .current: "current"
            case .version(let version): version.description
            case .reference(let reference): reference
            }
        }

        var isFamily: Bool {
            if case .reference = self { return false }
            return true
        }
    }

    public struct Options: Sendable {
        /// `HOST[:PORT][/NAMESPACE]` the releases were pushed under (as `release --registry`).
        public var registry: String?
        /// The cache registry whose shared layer indexes are read (as `verify --cache`).
        public var sharedIndex: RegistryCacheSession?
        /// The layers compared (all when empty).
        public var layers: [String] = []
        /// How layers not yet indexed are read from the engine.
        public var read = Verifier.Options()
        public var records: VerifyRecords? = VerifyRecords(directory: VerifyRecords.defaultDirectory())
        public var notes: @Sendable (String) -> Void = { _ in }

        public init() {}
    }

    public let engine: DockerEngine
    public let plan: BuildPlan?
    public let options: Options

    public init(engine: DockerEngine, plan: BuildPlan?, options: Options = Options()) {
        self.engine = engine
        self.plan = plan
        self.options = options
    }

    /// An image to read: where it is, and the recipe layer it stands for.
    struct Located: Sendable {
        var layer: String
        var reference: String
        /// Its layer's content hash and platform, for verify records (when the image says).
        var platform: Platform?
    }

    public func run(old: Side, new: Side) async throws -> [ImageDiff] {
        let before = try await locate(old), after = try await locate(new)
        var pairs: [(String, Located, Located)] = []
        if old.isFamily && new.isFamily {
            for image in after {
                if let previous = before.first(where: { $0.layer == image.layer && $0.platform == image.platform }) {
                    pairs.append((Platform.qualified(image.layer, image.platform), previous, image))
                }
            }
            let missing = before.filter { image in !after.contains { $0.layer == image.layer && $0.platform == image.platform } }
            if !missing.isEmpty { options.notes("not in \(new): \(missing.map(\.layer).joined(separator: ", "))") }
        } else {
            guard before.count == 1, after.count == 1 else {
                throw DescribeError("compare a family with one image by naming its layer: --layer L")
            }
            pairs.append((after[0].layer, before[0], after[0]))
        }
        // Where each image's layers are, each read into the kept indexes if it is not there yet.
        var resolved: [String: Resolved] = [:]
        for image in pairs.flatMap({ [$0.1, $0.2] }) where resolved[image.reference] == nil {
            resolved[image.reference] = try await resolve(image)
        }
        var sides: [DiffPair] = []
        for (name, previous, image) in pairs {
            guard let before = resolved[previous.reference], let after = resolved[image.reference] else {
                throw DescribeError("\(image.reference) could not be read")
            }
            sides.append(DiffPair(name: name, oldReference: previous.reference, old: before, newReference: image.reference, new: after))
        }
        return try await compare(sides)
    }

    /// Two images of one layer to compare, located.
    struct DiffPair: Sendable {
        var name: String
        var oldReference: String
        var old: Resolved
        var newReference: String
        var new: Resolved
    }

    /// Each pair of images compared, from one walk of the tree their chains of layers make, a
    /// layer at a time (each let go after its turn), as soon as the walk has made both images of
    /// a pair (whose files are then let go). Files are tracked from where the images of a pair
    /// part (the least of those): below, both have the same layers, hence the same files.
    private func compare(_ pairs: [DiffPair]) async throws -> [ImageDiff] {
        let parting = pairs.compactMap { pair -> Int? in
            pair.old.diffIDs == pair.new.diffIDs ? nil : zip(pair.old.diffIDs, pair.new.diffIDs).prefix { $0 == $1 }.count
        }.min()
        let store = readOptions.layerCache, exportOptions = readOptions.export
        var inMemory: [Digest: LayerBlob] = [:]
        for pair in pairs { for image in [pair.old, pair.new] { inMemory.merge(image.inMemory) { kept, _ in kept } } }
        let loaded = inMemory
        let diffs: [ImageDiff?]? = await BlockingWork.run {
            var diffs = [ImageDiff?](repeating: nil, count: pairs.count)
            var made: [[Digest]: PackageInventory.Snapshot] = [:]
            var wanted: [[Digest]: Int] = [:]  // pairs not compared yet that need the image
            for pair in pairs { for chain in [pair.old.diffIDs, pair.new.diffIDs] { wanted[chain, default: 0] += 1 } }
            let walked = PackageInventory.walk(
                chains: Array(wanted.keys),
                layer: { id in
                    imagegen_release_free_memory()
                    return loaded[id] ?? store?.load(id, options: exportOptions)
                }, trackingFrom: parting,
                each: { chain, snapshot in
                    made[chain] = snapshot
                    for (index, pair) in pairs.enumerated() where diffs[index] == nil {
                        guard let old = made[pair.old.diffIDs], let new = made[pair.new.diffIDs] else { continue }
                        diffs[index] = ImageDiff.compare(
                            layer: pair.name, old: DiffSide(reference: pair.oldReference, snapshot: old, checks: pair.old.checks),
                            new: DiffSide(reference: pair.newReference, snapshot: new, checks: pair.new.checks))
                        for done in [pair.old.diffIDs, pair.new.diffIDs] {
                            wanted[done, default: 1] -= 1
                            if wanted[done] == 0 { made[done] = nil }
                        }
                    }
                })
            return walked ? diffs : nil
        }
        guard let diffs else { throw DescribeError("a layer index could not be read again from \(store.map { _ in "the kept indexes" } ?? "memory")") }
        return diffs.compactMap { $0 }
    }

    /// An image located: its layers (bottom first), the indexes of those not kept, and its checks.
    struct Resolved: Sendable {
        var diffIDs: [Digest]
        var inMemory: [Digest: LayerBlob]
        var checks: [String: DiffSide.CheckOutcome]?
    }

    func locate(_ side: Side) async throws -> [Located] {
        switch side {
        case .reference(let reference):
            return [Located(layer: options.layers.first ?? "image", reference: reference, platform: nil)]
        case .current, .version:
            guard let plan else { throw DescribeError("\(side) names a version of a family: give the recipe (--recipe FILE)") }
            var layers = options.layers.isEmpty ? plan.layers : plan.layers.filter { options.layers.contains($0.name) }
            if case .version = side { layers = layers.filter(\.layer.spec.release) }
            return try layers.map { layer in
                switch side {
                case .current: return Located(layer: layer.name, reference: layer.reference.description, platform: layer.platform)
                case .version(let version):
                    let repository: Repository
                    do {
                        repository = try plan.releaseRepository(of: layer, registry: options.registry?.trimmingCharacters(in: CharacterSet(charactersIn: "/")) ?? "")
                    } catch {
                        throw DescribeError("--registry \(options.registry ?? ""): \(error)")
                    }
                    guard let tag = plan.releaseTags(of: layer, version: version).exact.first else {
                        throw DescribeError("layer '\(layer.name)' has no tag naming version \(version) (its tag templates have no {version})")
                    }
                    return Located(layer: layer.name, reference: repository.reference(tag), platform: layer.platform)
                case .reference: fatalError("handled above")
                }
            }
        }
    }

    // MARK: - Reading one image

    /// Where `image` is (the engine, else its registry), its layers, and its checks; layers no
    /// index is kept of are read now (from the engine, or the cache registry's shared indexes, or
    /// by a pull).
    func resolve(_ image: Located) async throws -> Resolved {
        let store = readOptions.layerCache
        func unkept(_ ids: [Digest]) -> [Digest] { ids.filter { store?.contains($0, options: readOptions.export) != true } }
        if let inspect = try await engine.inspectImage(image.reference) {
            let ids = inspect.rootFS?.layers ?? []
            var read: [Digest: LayerBlob] = [:]
            if !unkept(ids).isEmpty {
                (read, _) = try await LayerIndexReader(engine: engine, options: readOptions).read([VerifiedImage(reference: image.reference, inspect: inspect)])
            }
            return Resolved(diffIDs: ids, inMemory: Self.notKept(read, store: store, options: readOptions), checks: checks(labels: inspect.labels, platform: image.platform))
        }
        guard let parsed = try? ImageReference(parsing: image.reference), let registry = parsed.registry else {
            throw DescribeError("\(image.reference) is not in the engine\(options.registry == nil ? " (for a version pushed to a registry, give --registry)" : "")")
        }
        let auth = await RegistryCredentials.resolve(registry: registry)
        let client = RegistryCredentials.client(host: registry, auth: auth)
        let tagOrDigest = parsed.digest?.description ?? parsed.tag?.value ?? Tag.latest.value
        let remote: RegistryClient.RemoteImage
        do {
            guard
                let found = try await client.imageConfig(repository: parsed.path, reference: tagOrDigest, architecture: image.platform?.architecture ?? RegistryClient.architecture)
            else { throw DescribeError("\(image.reference) is neither in the engine nor in its registry") }
            remote = found
        } catch let error as RegistryError {
            throw DescribeError("cannot read \(image.reference) in its registry: \(error)")
        }
        // Layer indexes: kept here, else shared in the cache registry; the image is pulled only
        // for the layers neither knows.
        var read: [Digest: LayerBlob] = [:]
        if let shared = options.sharedIndex {
            for id in unkept(remote.diffIDs) {
                if let blob = await shared.fetchIndex(id, options: readOptions.export) {
                    store?.store(blob, diffID: id, options: readOptions.export)
                    read[id] = blob
                }
            }
        }
        let missing = unkept(remote.diffIDs).filter { read[$0] == nil }
        if !missing.isEmpty {
            options.notes("pulling \(image.reference) to read \(missing.count) of its \(remote.diffIDs.count) layers (no index of them here or in the cache)")
            do {
                try await engine.pull(ImageReference(parsing: image.reference), registryAuth: auth.header, platform: image.platform?.description)
            } catch let error as DockerEngineError {
                guard let message = error.refusalMessage else { throw error }
                throw DescribeError("cannot pull \(image.reference): \(message)")
            }
            guard let inspect = try await engine.inspectImage(image.reference) else { throw DescribeError("\(image.reference) vanished after its pull") }
            let (pulled, _) = try await LayerIndexReader(engine: engine, options: readOptions).read([VerifiedImage(reference: image.reference, inspect: inspect)])
            read.merge(pulled) { kept, _ in kept }
        }
        // Checks: this machine's last verify of the content, else the report the release attached.
        var known = checks(labels: remote.labels, platform: image.platform)
        if known == nil, let manifest = remote.manifestDigest,
            let report = try? await AttestationReader(client: client).fetch(.verify, repository: parsed.path, subject: manifest),
            let document = try? JSONValue(parsing: Data(report))
        {
            known = VerifyRecords.checks(document["layers"]?.arrayValue?.first?["checks"])
        }
        return Resolved(diffIDs: remote.diffIDs, inMemory: Self.notKept(read, store: store, options: readOptions), checks: known)
    }

    /// What was read and could not be kept (a cache directory that cannot be written): held.
    private static func notKept(_ read: [Digest: LayerBlob], store: LayerIndexStore?, options: Verifier.Options) -> [Digest: LayerBlob] {
        read.filter { store?.contains($0.key, options: options.export) != true }
    }

    private var readOptions: Verifier.Options {
        var read = options.read
        read.sharedIndex = options.sharedIndex
        return read
    }

    /// The image's checks from the last verify of its content hash on this machine.
    private func checks(labels: [String: String], platform: Platform?) -> [String: DiffSide.CheckOutcome]? {
        guard let hash = labels[ImageLabels.contentHash].flatMap({ try? ContentHash(parsing: $0) }) else { return nil }
        return options.records?.load(hash, platform: platform)
    }
}
