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

    public func run() async throws -> VerifyReport {
        // Exactly the layers named (unlike build, which also needs their ancestors).
        let layers = options.layers.isEmpty ? plan.layers : plan.layers.filter { options.layers.contains($0.name) }
        var results: [String: LayerVerification] = [:]

        // Which images are built for their current content hash and base.
        let status = try await EngineState.check(plan, layers: layers, engine: engine)
        var built: [LayerPlan] = []
        for layer in layers {
            var reason: String?
            switch status.layers[layer.displayName] {
            case .built?: break
            case .untagged?: reason = "\(layer.reference) is not tagged (run imagegen build to tag it)"
            case .stale(let why)?: reason = "\(layer.reference) is stale: \(why) (run imagegen build)"
            case .missing?: reason = "\(layer.reference) is not built (run imagegen build)"
            case nil:
                if case .missing(let message)? = status.bases[PlatformBases.key(layer.layer.rootImage, layer.platform)] {
                    reason = message
                } else {
                    reason = "its base image was not resolved"
                }
            }
            if let reason {
                results[layer.name] = LayerVerification(layer: layer.name, platform: layer.platform, reference: layer.reference, imageID: nil,
                                                        checks: [.failed(layer.name, "built", "built", reason)], seconds: 0)
            } else {
                built.append(layer)
            }
        }

        if !built.isEmpty {
            let inspections = Inspections(engine: engine)
            let (blobs, sources) = try await layerIndexes(built, inspections: inspections)
            if let shared = options.sharedIndex {
                await share(blobs, read: sources, with: shared)
                if let warning = await shared.takeWarning() { options.notes(warning) }
            }
            for layer in built {
                let started = Date()
                var checks: [CheckResult] = []
                guard let inspect = try await inspections.image(layer.reference),
                      let diffIDs = inspect.rootFS?.layers, diffIDs.allSatisfy({ blobs[$0] != nil })
                else {
                    results[layer.name] = LayerVerification(layer: layer.name, platform: layer.platform, reference: layer.reference, imageID: nil,
                                                            checks: [.failed(layer.name, "built", "built", "\(layer.reference) vanished during verify")], seconds: 0)
                    continue
                }
                checks.append(.passed(layer.name, "built", "built", "\(layer.reference) is \(inspect.id.short), built for content hash \(layer.contentHash.short)",
                                      measured: .string(inspect.id.description)))
                let image = try await underTest(layer, inspect: inspect, blobs: diffIDs.compactMap { blobs[$0] }, inspections: inspections)
                checks += Policies.all(image)
                checks += try await probes(image)
                results[layer.name] = LayerVerification(layer: layer.name, platform: layer.platform, reference: layer.reference, imageID: inspect.id, checks: checks,
                                                        seconds: Date().timeIntervalSince(started),
                                                        layerSources: diffIDs.map { LayerRead(diffID: $0, source: sources[$0] ?? .index) })
            }
        }
        return VerifyReport(recipe: plan.name, layers: layers.compactMap { results[$0.name] })
    }

    /// Every layer of the images, by diff ID, and where each came from: the layer index, else
    /// the engine's storage read in place (``LayersFrom``), else one export of all the images
    /// (layers they share read and scanned once). What was read fills the index.
    private func layerIndexes(_ layers: [LayerPlan], inspections: Inspections) async throws -> ([Digest: LayerBlob], [Digest: LayerSource]) {
        var diffIDs: [String: [Digest]] = [:]
        for layer in layers {
            diffIDs[layer.reference.description] = try await inspections.image(layer.reference)?.rootFS?.layers ?? []
        }
        var blobs: [Digest: LayerBlob] = [:]
        var sources: [Digest: LayerSource] = [:]
        if let cache = options.layerCache {
            for id in Set(diffIDs.values.joined()) {
                if let blob = cache.load(id, options: options.export) {
                    blobs[id] = blob
                    sources[id] = .index
                }
            }
        }
        func missing() -> Bool { !diffIDs.values.joined().allSatisfy { blobs[$0] != nil } }

        if missing(), let shared = options.sharedIndex {
            let wanted = Set(diffIDs.values.joined()).subtracting(blobs.keys)
            let exportOptions = options.export
            let fetched = await withTaskGroup(of: (Digest, LayerBlob?).self) { group in
                for id in wanted { group.addTask { (id, await shared.fetchIndex(id, options: exportOptions)) } }
                var found: [Digest: LayerBlob] = [:]
                for await (id, blob) in group { if let blob { found[id] = blob } }
                return found
            }
            for (id, blob) in fetched {
                blobs[id] = blob
                sources[id] = .registry
                options.layerCache?.store(blob, diffID: id, options: options.export)
            }
        }

        if missing(), options.layersFrom != .export {
            for (id, (blob, source)) in try await readStorage(layers, known: Set(blobs.keys), inspections: inspections) {
                blobs[id] = blob
                sources[id] = source
                options.layerCache?.store(blob, diffID: id, options: options.export)
            }
        }
        guard missing() else { return (blobs, sources) }

        let analysis = try await ImageExport.analyze(layers.map(\.reference.description), engine: engine, options: options.export)
        for layer in layers {
            let reference = layer.reference.description
            guard let ids = diffIDs[reference],
                  let keys = analysis.images[reference] ?? analysis.images["docker.io/library/" + reference],
                  keys.count == ids.count
            else { continue }
            // The export lists an image's layers in the order of its diff IDs.
            for (id, key) in zip(ids, keys) where blobs[id] == nil {
                guard let blob = analysis.blobs[key] else { continue }
                blobs[id] = blob
                sources[id] = .export
                options.layerCache?.store(blob, diffID: id, options: options.export)
            }
        }
        return (blobs, sources)
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

    /// The layers not `known`, read in the engine's storage: in place where this process can
    /// read it (as many at a time as there are cores), else through the helper container. Where
    /// neither can, says so once and leaves the layers to the export (a forced way throws instead).
    private func readStorage(_ layers: [LayerPlan], known: Set<Digest>, inspections: Inspections) async throws -> [Digest: (LayerBlob, LayerSource)] {
        let mode = options.layersFrom
        var local: [(Digest, String)] = []
        var helped: [(Digest, String)] = []
        var seen = known
        var unavailable: String?
        for layer in layers {
            guard let inspect = try await inspections.image(layer.reference), let ids = inspect.rootFS?.layers else { continue }
            var directories: [String]?
            var reason: String?
            if mode == .auto || mode == .storage {
                switch options.storageDirectories(inspect) {
                case .success(let found): directories = found
                case .failure(let failure): reason = failure.description
                }
            }
            var viaHelper = false
            if directories == nil, mode == .auto || mode == .helper {
                if options.helperBinary == nil {
                    reason = reason ?? "no imagegen executable to run in a helper container"
                } else if case .success(let found) = LayerStorage.layout(of: inspect) {
                    directories = found
                    viaHelper = true
                } else if case .failure(let failure) = LayerStorage.layout(of: inspect) {
                    reason = failure.description
                }
            }
            guard let directories else {
                unavailable = unavailable ?? reason
                continue
            }
            for (id, directory) in zip(ids, directories) where !seen.contains(id) {
                seen.insert(id)
                if viaHelper { helped.append((id, directory)) } else { local.append((id, directory)) }
            }
        }
        if let unavailable {
            if mode == .storage || mode == .helper { throw StorageUnavailable(description: "--layers-from \(mode.rawValue): \(unavailable)") }
            options.notes("note: reading layers from the engine's export: \(unavailable)")
        }
        var read: [Digest: (LayerBlob, LayerSource)] = [:]
        var failures: [String] = []
        for (id, blob) in try await readLocally(local, failures: &failures) { read[id] = (blob, .storage) }
        if !helped.isEmpty {
            do {
                let (dataRoot, problem) = try await LayerHelper.usable(on: engine)
                if let problem { throw LayerHelper.Failure(description: problem) }
                let found = try await LayerHelper.read(helped, binary: options.helperBinary ?? "", dataRoot: dataRoot, engine: engine, options: options.export)
                for (id, directory) in helped {
                    if let blob = found[id] { read[id] = (blob, .helper) } else { failures.append("\(directory): the helper could not read it") }
                }
            } catch let failure as LayerHelper.Failure {
                if mode == .helper { throw StorageUnavailable(description: "--layers-from helper: \(failure)") }
                options.notes("note: reading layers from the engine's export: the helper container: \(failure)")
            } catch let error as DockerEngineError {
                guard error.isRefusal else { throw error }
                if mode == .helper { throw StorageUnavailable(description: "--layers-from helper: \(error)") }
                options.notes("note: reading layers from the engine's export: the helper container: \(error)")
            }
        }
        if let first = failures.first {
            // The image was removed or rebuilt meanwhile: never a pass on half a layer.
            if mode == .storage || mode == .helper { throw StorageUnavailable(description: "--layers-from \(mode.rawValue): \(first)") }
            options.notes("note: \(failures.count) layer\(failures.count == 1 ? "" : "s") could not be read in the engine's storage (\(first)); reading \(failures.count == 1 ? "it" : "them") from the export")
        }
        return read
    }

    /// Layer directories read by this process, as many at a time as there are cores.
    private func readLocally(_ wanted: [(Digest, String)], failures: inout [String]) async throws -> [Digest: LayerBlob] {
        let exportOptions = options.export
        var read: [Digest: LayerBlob] = [:]
        var failed: [String] = []
        try await withThrowingTaskGroup(of: (Digest, Result<LayerBlob, LayerStorage.Failure>).self) { group in
            var next = 0
            func start() {
                guard next < wanted.count else { return }
                let (id, directory) = wanted[next]
                next += 1
                group.addTask {
                    let result = try await BlockingWork.run { () -> Result<LayerBlob, LayerStorage.Failure> in
                        do { return .success(try LayerStorage.read(directory, key: id.description, options: exportOptions)) } catch let failure as LayerStorage.Failure { return .failure(failure) }
                    }
                    return (id, result)
                }
            }
            for _ in 0..<max(1, ProcessInfo.processInfo.activeProcessorCount) { start() }
            while let (id, result) = try await group.next() {
                switch result {
                case .success(let blob): read[id] = blob
                case .failure(let failure): failed.append(failure.description)
                }
                start()
            }
        }
        failures += failed
        return read
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
            parentLayerCount: common, parentName: parentName, layerOrigins: origins, view: FileSystemView(layers: blobs))
    }

    /// The probes of the layer, its toolsets and its ancestors, in one container.
    private func probes(_ image: ImageUnderTest) async throws -> [CheckResult] {
        var probes: [ProbeSpec] = []
        for layer in plan.lineage(of: image.plan) {
            for probe in layer.layer.probes where !probes.contains(where: { $0.command.value == probe.command.value && $0.expect?.value == probe.expect?.value }) {
                probes.append(probe)
            }
        }
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

    /// A probe passes when it exits 0 and, with `expect`, its output matches.
    static func judge(_ probe: ProbeSpec, _ outcome: ProbeRunner.Outcome, layer: String, timeout: Int) -> CheckResult {
        let name = "probe: \(outcome.command)"
        if outcome.timedOut {
            return .failed(layer, name, "probes", "timed out after \(timeout)s", threshold: .int(Int64(timeout)), details: outcome.output)
        }
        guard outcome.exitCode == 0 else {
            let code = outcome.exitCode.map(String.init) ?? "unknown"
            return .failed(layer, name, "probes", "exited with \(code)", measured: outcome.exitCode.map { .int(Int64($0)) } ?? .null,
                           threshold: .int(0), details: outcome.output)
        }
        guard let expect = probe.expect?.value else {
            return .passed(layer, name, "probes", outcome.firstLine ?? "exit 0", measured: .int(0))
        }
        let text = outcome.fullOutput
        let found = (try? NSRegularExpression(pattern: expect)).flatMap { $0.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) }
        guard let found, let range = Range(found.range, in: text) else {
            return .failed(layer, name, "probes", "output does not match /\(expect)/", measured: .string(outcome.firstLine ?? ""),
                           threshold: .string(expect), details: outcome.output)
        }
        return .passed(layer, name, "probes", "matches /\(expect)/: \(text[range])", measured: .string(String(text[range])), threshold: .string(expect))
    }
}

/// Image inspections for one verify run: every layer's checks look at its ancestors' images too,
/// and each is asked of the engine once.
private actor Inspections {
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
