import DockerEngine
import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import Inventory
import RegistryCache
import ContainerRegistry

/// Runs every policy on every selected layer's image and collects one report.
public struct Verifier: Sendable {
    public struct Options: Sendable {
        public var layers: [String] = []
        /// Seconds each probe may run when the policy does not say.
        public var probeTimeout = 30
        public var export = ImageExport.Options()
        /// Layer indexes by diff ID (nil: always read the images from the engine).
        public var layerCache: LayerIndexStore? = LayerIndexStore(directory: LayerIndexStore.defaultDirectory())
        /// How layers not in the index are read.
        public var layersFrom: LayersFrom = .auto
        /// Lines for the user about how layers were read (a fallback to the export).
        public var notes: @Sendable (String) -> Void = { _ in }
        /// The cache registry, whose shared layer indexes are fetched before a layer is read,
        /// and which gets the indexes of layers read here (read-write caches).
        public var sharedIndex: RegistryCacheSession?
        /// Whether results the cache registry keeps for the same image, rules and policy are
        /// reused (`verify --recheck` turns it off; results checked here are still kept).
        public var reuseResults = true
        /// Where each verified layer's checks are kept, for `imagegen diff` (nil: nowhere).
        public var records: VerifyRecords? = VerifyRecords(directory: VerifyRecords.defaultDirectory())
        /// The imagegen executable the helper container runs (nil: no helper).
        public var helperBinary: String? = LayerHelper.defaultBinary
        /// Where an image's layer directories are (tests point it at a directory that is gone).
        public var storageDirectories: @Sendable (ImageInspect) -> Result<[String], LayerStorage.Failure> = LayerStorage.directories(of:)

        public init() {}
    }

    /// Where layers not yet indexed are read from.
    public enum LayersFrom: String, Sendable, CaseIterable {
        /// The engine's storage where this process can read it, else through the helper
        /// container, else the export.
        case auto
        /// The engine's storage only: an error where it cannot be read.
        case storage
        /// The engine's storage through a helper container (imagegen itself, the data root
        /// mounted read-only): for a user who cannot read it, or an engine on another machine.
        case helper
        /// The engine's export (`GET /images/get`), as for a remote engine.
        case export
    }

    /// `--layers-from storage` where the storage cannot be read.
    public struct StorageUnavailable: Error, CustomStringConvertible {
        public var description: String
    }

    public let engine: DockerEngine
    public let plan: BuildPlan
    public let options: Options

    public init(engine: DockerEngine, plan: BuildPlan, options: Options = Options()) {
        self.engine = engine
        self.plan = plan
        self.options = options
    }

    /// Bump when a check changes what it reports for the same image and policy: results stored
    /// in the cache registry under another version are not reused (see ``VerifyResults``).
    static let checksVersion = 1

    public func run() async throws -> VerifyReport {
        // Exactly the layers named (unlike build, which also needs their ancestors).
        let layers = options.layers.isEmpty ? plan.layers : plan.layers.filter { options.layers.contains($0.name) }
        var results: [String: LayerVerification] = [:]

        // Which images are built for their current content hash and base; with a cache, which
        // of the others (and of their ancestors, which a layer is measured against) it holds.
        let session = options.sharedIndex
        let lineages = Set(layers.flatMap { plan.lineage(of: $0).map(\.key) })
        let checked = session == nil ? layers : plan.layers.filter { lineages.contains($0.key) }
        let status = try await EngineState.check(plan, layers: checked, engine: engine, cache: session)
        var candidates: [LayerPlan] = []
        for layer in layers {
            var reason: String?
            switch (status.layers[layer.key], status.cached[layer.key]) {
            case (.built?, _), (_?, .hit?): break
            case (.untagged?, _): reason = "\(layer.reference) is not tagged (run imagegen build to tag it)"
            case (.stale(let why)?, _): reason = "\(layer.reference) is stale: \(why) (run imagegen build)"
            case (.missing?, _): reason = "\(layer.reference) is not built (run imagegen build)"
            case (nil, _):
                if case .missing(let message)? = status.bases[PlatformBases.key(layer.layer.rootImage, layer.platform)] {
                    reason = message
                } else {
                    reason = "its base image was not resolved"
                }
            }
            if let reason {
                results[layer.name] = LayerVerification(
                    layer: layer.name, platform: layer.platform, reference: layer.reference, imageID: nil,
                    checks: [.failed(layer.name, "built", "built", reason)], seconds: 0)
            } else {
                candidates.append(layer)
            }
        }

        // Results the cache keeps for the same image, rules and policy are reused.
        let stored = session.map { VerifyResults(session: $0, options: options) }
        var toVerify: [LayerPlan] = []
        for layer in candidates {
            let started = Date()
            if let stored, options.reuseResults, let image = await imageID(of: layer, status: status, session: stored.session) {
                let key = stored.key(layer, lineage: plan.lineage(of: layer))
                if var result = await stored.fetch(layer, image: image, key: key) {
                    result.seconds = Date().timeIntervalSince(started)
                    results[layer.name] = result
                    options.records?.store(result, contentHash: layer.contentHash)
                    continue
                }
            }
            toVerify.append(layer)
        }

        // The rest are verified here: what the engine lacks is pulled from the cache first,
        // with the ancestors each is measured against.
        if let session, !toVerify.isEmpty {
            for failed in try await pullMissing(toVerify, status: status, session: session) {
                results[failed.name] = LayerVerification(
                    layer: failed.name, platform: failed.platform, reference: failed.reference, imageID: nil,
                    checks: [.failed(failed.name, "built", "built", "\(failed.reference) is in the cache but could not be pulled (run imagegen build)")], seconds: 0)
                toVerify.removeAll { $0.key == failed.key }
            }
            if let warning = await session.takeWarning() { options.notes("warning: " + warning) }
        }
        if !toVerify.isEmpty {
            let inspections = Inspections(engine: engine)
            let (blobs, sources) = try await LayerIndexReader(engine: engine, options: options).read(toVerify, inspections: inspections)
            for layer in toVerify {
                let started = Date()
                var checks: [CheckResult] = []
                guard let inspect = try await inspections.image(layer.reference),
                    let diffIDs = inspect.rootFS?.layers, diffIDs.allSatisfy({ blobs[$0] != nil })
                else {
                    results[layer.name] = LayerVerification(
                        layer: layer.name, platform: layer.platform, reference: layer.reference, imageID: nil,
                        checks: [.failed(layer.name, "built", "built", "\(layer.reference) vanished during verify")], seconds: 0)
                    continue
                }
                checks.append(
                    .passed(
                        layer.name, "built", "built", "\(layer.reference) is \(inspect.id.short), built for content hash \(layer.contentHash.short)",
                        measured: .string(inspect.id.description)))
                let image = try await underTest(layer, inspect: inspect, blobs: diffIDs.compactMap { blobs[$0] }, inspections: inspections)
                checks += Policies.all(image)
                checks += try await probes(image)
                let result = LayerVerification(
                    layer: layer.name, platform: layer.platform, reference: layer.reference, imageID: inspect.id, checks: checks,
                    seconds: Date().timeIntervalSince(started),
                    layerSources: diffIDs.map { LayerRead(diffID: $0, source: sources[$0] ?? .index) },
                    packages: image.inventory.largestAdded(in: image.parentLayerCount..<image.layers.count, count: 10))
                results[layer.name] = result
                options.records?.store(result, contentHash: layer.contentHash)
                if let stored { await stored.store(result, key: stored.key(layer, lineage: plan.lineage(of: layer))) }
            }
        }
        return VerifyReport(recipe: plan.name, layers: layers.compactMap { results[$0.name] })
    }

    /// The image a layer is: the engine's when built here, else the one the cache holds.
    private func imageID(of layer: LayerPlan, status: EngineState, session: RegistryCacheSession) async -> ImageID? {
        if case .built(let imageID, _)? = status.layers[layer.key] { return imageID }
        guard case .hit(let reference)? = status.cached[layer.key] else { return nil }
        return await session.imageID(of: reference)
    }

    /// Pulls from the cache each of `layers` and of their ancestors that the engine lacks, in
    /// build order; the layers of `layers` still not here.
    private func pullMissing(_ layers: [LayerPlan], status: EngineState, session: RegistryCacheSession) async throws -> [LayerPlan] {
        let needed = Set(layers.flatMap { plan.lineage(of: $0).map(\.key) })
        let pulled = try await session.restore(plan.layers.filter { needed.contains($0.key) }, of: plan, engine: engine, state: status)
        for (layer, reference) in pulled { options.notes("[\(layer.displayName)] pulled from \(reference) to verify it") }
        return layers.filter { layer in status.layers[layer.key]?.isBuilt != true && !pulled.contains { $0.layer.key == layer.key } }
    }

    /// Gathers what the checks need about one layer's image.
    private func underTest(_ layer: LayerPlan, inspect: ImageInspect, blobs: [LayerBlob], inspections: Inspections) async throws -> ImageUnderTest {
        let history = try await engine.history(layer.reference.description)
        // The parent's layers are a prefix of this image's; count them to know what this layer adds.
        let parentReference: String
        var parentName: String
        switch layer.layer.parent {
        case .layer(let name):
            parentReference = plan.layer(named: name)?.reference.description ?? name
            parentName = "layer '\(name)'"
        case .image(let reference):
            // A platform's base is the image its build was FROM (a digest its registry named).
            parentReference = layer.platform == nil ? reference.description : inspect.labels[ImageLabels.OCI.baseName] ?? reference.description
            parentName = reference.description + (layer.platform.map { " (\($0))" } ?? "")
        }
        let parentDiffs = try await inspections.image(parentReference)?.rootFS?.layers ?? []
        let ownDiffs = inspect.rootFS?.layers ?? []
        var common = 0
        while common < min(parentDiffs.count, ownDiffs.count), parentDiffs[common] == ownDiffs[common] { common += 1 }
        if parentDiffs.isEmpty { parentName += " (not in the engine)" }

        // Which recipe layer added each image layer, from the ancestors' layer counts.
        var origins: [String] = []
        var counts: [(String, Int)] = []
        for ancestor in plan.lineage(of: layer) {
            let count = try await inspections.image(ancestor.reference)?.rootFS?.layers?.count ?? 0
            counts.append((ancestor.name, count))
        }
        for index in blobs.indices {
            origins.append(counts.first { index < $0.1 }.map { "added by '\($0.0)'" } ?? "added by '\(layer.name)'")
        }
        if let rootCount = try await inspections.image(layer.layer.rootImage.description)?.rootFS?.layers?.count {
            for index in 0..<min(rootCount, origins.count) { origins[index] = "from \(layer.layer.rootImage)" }
        }
        return ImageUnderTest(
            plan: layer, recipe: plan.recipe, inspect: inspect, history: history, layers: blobs,
            parentLayerCount: common, parentName: parentName, layerOrigins: origins, view: FileSystemView(layers: blobs),
            inventory: PackageInventory.make(blobs, files: false))
    }

    /// The probes of the layer, its toolsets and its ancestors, in one container.
    private func probes(_ image: ImageUnderTest) async throws -> [CheckResult] {
        let probes = Self.probes(of: plan.lineage(of: image.plan))
        guard !probes.isEmpty else { return [] }
        let timeout = image.policy.probeTimeout?.value ?? options.probeTimeout
        let started = Date()
        let outcomes = try await ProbeRunner.run(image: image.plan.reference.description, probes: probes.map(\.command.value), timeoutSeconds: timeout, engine: engine)
        let seconds = Date().timeIntervalSince(started) / Double(max(outcomes.count, 1))
        return zip(probes, outcomes).map { probe, outcome in
            var result = Self.judge(probe, outcome, layer: image.name, timeout: timeout)
            result.seconds = seconds
            return result
        }
    }

    /// The probes of a layer's lineage, each once, base first.
    static func probes(of lineage: [LayerPlan]) -> [ProbeSpec] {
        var probes: [ProbeSpec] = []
        for layer in lineage {
            for probe in layer.layer.probes where !probes.contains(where: { $0.command.value == probe.command.value && $0.expect?.value == probe.expect?.value }) {
                probes.append(probe)
            }
        }
        return probes
    }

    /// A probe passes when it exits 0 and, with `expect`, its output matches.
    static func judge(_ probe: ProbeSpec, _ outcome: ProbeRunner.Outcome, layer: String, timeout: Int) -> CheckResult {
        let name = "probe: \(outcome.command)"
        if outcome.timedOut {
            return .failed(layer, name, "probes", "timed out after \(timeout)s", threshold: .int(Int64(timeout)), details: outcome.output)
        }
        guard outcome.exitCode == 0 else {
            let code = outcome.exitCode.map(String.init) ?? "unknown"
            return .failed(
                layer, name, "probes", "exited with \(code)", measured: outcome.exitCode.map { .int(Int64($0)) } ?? .null,
                threshold: .int(0), details: outcome.output)
        }
        guard let expect = probe.expect?.value else {
            return .passed(layer, name, "probes", outcome.firstLine ?? "exit 0", measured: .int(0))
        }
        let text = outcome.fullOutput
        let found = (try? NSRegularExpression(pattern: expect)).flatMap { $0.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) }
        guard let found, let range = Range(found.range, in: text) else {
            return .failed(
                layer, name, "probes", "output does not match /\(expect)/", measured: .string(outcome.firstLine ?? ""),
                threshold: .string(expect), details: outcome.output)
        }
        return .passed(layer, name, "probes", "matches /\(expect)/: \(text[range])", measured: .string(String(text[range])), threshold: .string(expect))
    }
}

/// Image inspections for one verify run: every layer's checks look at its ancestors' images too,
/// and each is asked of the engine once.
actor Inspections {
    private let engine: DockerEngine
    private var known: [String: ImageInspect?] = [:]

    init(engine: DockerEngine) { self.engine = engine }

    func image(_ reference: ImageReference) async throws -> ImageInspect? { try await image(reference.description) }

    func image(_ reference: String) async throws -> ImageInspect? {
        if let cached = known[reference] { return cached }
        let image = try await engine.inspectImage(reference)
        known[reference] = image
        return image
    }
}

extension Verifier.StorageUnavailable: ClassifiedError {
    public var exitStatus: ExitStatus { .failed }
}
