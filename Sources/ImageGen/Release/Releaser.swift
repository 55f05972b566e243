import ContainerRegistry
import DockerEngine
import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache

/// `imagegen release`: semver tags for every layer of the family, only after verify passes,
/// all or nothing.
public struct Releaser: Sendable {
    public struct Options: Sendable {
        public var info: ReleaseInfo
        public var push = false
        /// `HOST[:PORT][/NAMESPACE]` to prefix repositories with.
        public var registry: String?
        public var dryRun = false
        public var probeTimeout = 30

        public init(info: ReleaseInfo) { self.info = info }
    }

    /// One tag of the release and what happened to it.
    public struct TagOutcome: Sendable, Equatable {
        public var layer: String
        public var repository: Repository
        public var tag: Tag
        public var action: TagPlanner.Action
        /// The image the tag names after the release (for a kept tag, what it already names);
        /// nil in a dry run for the release image, which is not made.
        public var image: ImageID?
        public var pushed = false
        /// The image index the tag names (multi-platform releases).
        public var index: Digest?

        public var reference: String { repository.reference(tag) }
    }

    public struct Report: Sendable {
        public var recipe: String
        public var info: ReleaseInfo
        public var dryRun: Bool
        public var tags: [TagOutcome] = []
        /// Tags put back (or removed) after a failure.
        public var restored: [String] = []
        /// Registry tags pushed before a push failed (a registry cannot be rolled back).
        public var pushedBeforeFailure: [String] = []
        public var verify: VerifyReport?
        /// Why the release did not happen, or failed part way (after which tags were restored).
        public var failure: String?

        public var succeeded: Bool { failure == nil }
    }

    public let engine: DockerEngine
    public let plan: BuildPlan
    public let options: Options
    public let progress: @Sendable (String) -> Void
    /// A native engine per platform (multi-platform recipes); the others are on ``engine``.
    public let platformEngines: [Platform: DockerEngine]

    public init(
        engine: DockerEngine, plan: BuildPlan, options: Options, platformEngines: [Platform: DockerEngine] = [:],
        progress: @escaping @Sendable (String) -> Void = { _ in }
    ) {
        self.engine = engine
        self.plan = plan
        self.options = options
        self.platformEngines = platformEngines
        self.progress = progress
    }

    func engine(for platform: Platform?) -> DockerEngine { platform.flatMap { platformEngines[$0] } ?? engine }

    /// `--registry` without surrounding slashes ("" for none).
    public var prefix: String {
        options.registry?.trimmingCharacters(in: CharacterSet(charactersIn: "/")) ?? ""
    }

    /// The repository a layer's release tags live in.
    func repository(of layer: LayerPlan) throws(ReleaseError) -> Repository {
        do {
            return try layer.imageName.prefixed(with: prefix)
        } catch {
            throw .refused("--registry \(prefix): \(error)")
        }
    }

    /// The layers a release tags: all but internal ones (`release: false`), which are built,
    /// verified and used, never published.
    var releasedLayers: [LayerPlan] { plan.layers.filter(\.layer.spec.release) }

    /// A layer's tags for this release (its `tags:`, the recipe's, or the defaults), exact first.
    func tags(of layer: LayerPlan) -> (exact: [Tag], floating: [Tag]) {
        let templates = (layer.layer.spec.tags ?? plan.recipe.recipe.tags)?.map(\.value)
        return TagTemplate.tags(for: options.info.version, templates: templates, variant: layer.layer.spec.variant)
    }

    public func run() async throws -> Report {
        if plan.isMultiPlatform { return try await runMultiPlatform() }
        var report = Report(recipe: plan.name, info: options.info, dryRun: options.dryRun)
        let version = options.info.version

        // 1. Every layer built and verified, or nothing happens.
        progress("verifying \(plan.layers.count) layers")
        var verifyOptions = Verifier.Options()
        verifyOptions.probeTimeout = options.probeTimeout
        let verification = try await Verifier(engine: engine, plan: plan, options: verifyOptions).run()
        report.verify = verification
        guard verification.passed else {
            let failed = verification.checks.filter { !$0.passed }
            report.failure = "verify failed (\(failed.count) of \(verification.checks.count) checks): nothing was tagged"
            return report
        }

        // With --push the registry is the truth about what is released: a fresh CI runner's
        // engine has no tags, and deciding from it alone could move `latest` backwards.
        let auth = options.push ? await RegistryCredentials.resolve(registry: registryHost) : nil
        let registry = auth.map { RegistryCredentials.client(host: registryHost, auth: $0) }
        func remoteState(_ repository: Repository, _ tag: Tag) async throws -> TagPlanner.Current? {
            guard let registry else { return nil }
            do {
                return try await registryState(registry, repository: repository, tag: tag)
            } catch let error as RegistryError {
                throw ReleaseError.registry("cannot read \(repository.reference(tag)) in the registry: \(error); nothing was tagged", cause: error)
            }
        }
        if let registry { progress("reading the release's tags in \(registry.host)") }

        // 2. Exact tags: refuse before touching anything if one names another image, here or in
        //    the registry. The first exact tag decides whether the layer is released already.
        var releaseImages: [String: ImageID] = [:]  // layer → image the release tags
        var toStamp: [LayerPlan] = []
        var remoteFloating: [String: TagPlanner.Current] = [:]  // "repository:tag" → registry state
        var toPull: [(layer: LayerPlan, tag: Tag)] = []
        for layer in releasedLayers {
            do {
                let repository = try repository(of: layer)
                let (exactTags, floatingTags) = tags(of: layer)
                var decided = false
                for (index, exactTag) in exactTags.enumerated() {
                    var current = try await state(of: repository.reference(exactTag))
                    let remote = try await remoteState(repository, exactTag)
                    if let remote {
                        _ = try TagPlanner.exact(exactTag, repository: repository, version: version, contentHash: layer.contentHash, current: remote, place: " in the registry")
                        if current == nil, index == 0 {
                            // Released from another machine: this run's tags will name that very
                            // image, pulled once every check has passed.
                            current = remote
                            toPull.append((layer, exactTag))
                        }
                    }
                    let action = try TagPlanner.exact(exactTag, repository: repository, version: version, contentHash: layer.contentHash, current: current)
                    if index == 0 {
                        if case .keep = action, let current { releaseImages[layer.name] = current.imageID } else { toStamp.append(layer) }
                        decided = true
                    }
                    report.tags.append(TagOutcome(layer: layer.name, repository: repository, tag: exactTag, action: action, image: current?.imageID))
                }
                if !decided { toStamp.append(layer) }
                for tag in floatingTags { remoteFloating[repository.reference(tag)] = try await remoteState(repository, tag) }
            } catch let refusal as ReleaseError {
                report.failure = refusal.description
                report.tags = []
                return report
            }
        }

        // 3. The release images: the built image plus the release's labels, a layer with no files,
        //    so the content-hash images (and the cache) are untouched; or, for a version already in
        //    the registry, its image from there.
        if !options.dryRun {
            for (layer, tag) in toPull {
                let repository = try repository(of: layer)
                progress("pulling \(repository.reference(tag)), released before")
                try await engine.pull(ImageReference(repository, tag: tag), registryAuth: auth?.header)
                if let pulled = try await state(of: repository.reference(tag)) { releaseImages[layer.name] = pulled.imageID }
            }
            for layer in toStamp where releaseImages[layer.name] == nil {
                progress("stamping \(layer.reference) with version \(version)")
                releaseImages[layer.name] = try await stamp(layer)
            }
        }

        // 4. Floating tags: forward only.
        for layer in releasedLayers {
            let repository = try repository(of: layer)
            let target = releaseImages[layer.name]
            let (exactTags, floatingTags) = tags(of: layer)
            for index in report.tags.indices where report.tags[index].layer == layer.name && exactTags.contains(report.tags[index].tag) {
                // A second exact tag already on this release's image is kept; a new one names it.
                if case .keep = report.tags[index].action, report.tags[index].image != target, target != nil { report.tags[index].action = .create }
                report.tags[index].image = target
            }
            for tag in floatingTags {
                if let remote = remoteFloating[repository.reference(tag)], let newer = remote.version, newer.comparePrecedence(version) > 0 {
                    report.tags.append(
                        TagOutcome(
                            layer: layer.name, repository: repository, tag: tag,
                            action: .keep("stays at \(newer) in the registry, which is newer"), image: remote.imageID))
                    continue
                }
                let current = try await state(of: repository.reference(tag))
                var action = TagPlanner.floating(tag, version: version, target: target, current: current)
                // In a dry run the release image does not exist yet; a tag already on this version of
                // this content is what a real run would keep.
                if options.dryRun, case .move = action, let current, current.version == version, current.contentHash == layer.contentHash {
                    action = .keep("already there")
                }
                let image: ImageID?
                if case .keep = action { image = current?.imageID ?? target } else { image = target }
                report.tags.append(TagOutcome(layer: layer.name, repository: repository, tag: tag, action: action, image: image))
            }
        }
        // Layer by layer, exact tags first, each in its template's order.
        let order = Dictionary(uniqueKeysWithValues: releasedLayers.enumerated().map { ($1.name, $0) })
        var tagOrder: [String: [Tag: Int]] = [:]
        for layer in releasedLayers {
            let (exact, floating) = tags(of: layer)
            tagOrder[layer.name] = Dictionary((exact + floating).enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        }
        report.tags.sort { (order[$0.layer] ?? 0, tagOrder[$0.layer]?[$0.tag] ?? 0) < (order[$1.layer] ?? 0, tagOrder[$1.layer]?[$1.tag] ?? 0) }
        if options.dryRun { return report }

        // 5. Tags, all at the end; on any failure every tag moved or created here is put back.
        var applied: [TagOutcome] = []
        do {
            for outcome in report.tags {
                switch outcome.action {
                case .keep: continue
                case .create, .move:
                    guard let image = outcome.image else { continue }
                    try await engine.tag(image, repository: outcome.repository, tag: outcome.tag)
                    applied.append(outcome)
                }
            }
        } catch let error as DockerEngineError {
            // One owner for each failure: a refused tag is the report's; an engine gone is thrown.
            report.restored = await restore(applied)
            guard error.isRefusal else { throw error }
            report.failure = "tagging failed: \(error); every tag moved in this run was put back"
            return report
        }

        // 6. Push every tag that now names this release's image.
        if options.push, let auth {
            progress("pushing to \(registryHost) (\(auth))")
            for index in report.tags.indices {
                let outcome = report.tags[index]
                // A floating tag that stays on a newer version is not this release's to push.
                guard outcome.image != nil, outcome.image == releaseImages[outcome.layer] else { continue }
                do {
                    progress("pushing \(outcome.reference)")
                    try await engine.push(outcome.repository, tag: outcome.tag, registryAuth: auth.header)
                    report.tags[index].pushed = true
                } catch let error as DockerEngineError {
                    report.pushedBeforeFailure = report.tags.filter(\.pushed).map(\.reference)
                    report.restored = await restore(applied)
                    report.failure = "pushing \(outcome.reference) failed: \(error); every local tag moved in this run was put back"
                    return report
                }
            }
        }
        return report
    }

    /// The registry the repositories live in (the part of `--registry` before the first `/`).
    var registryHost: String {
        prefix.split(separator: "/").first.map(String.init) ?? "docker.io"
    }

    /// What `repository:tag` names in the registry. The config digest is the image ID an engine
    /// gives the image, so it compares with local image IDs.
    func registryState(_ registry: RegistryClient, repository: Repository, tag: Tag, architecture: String = RegistryClient.architecture) async throws -> TagPlanner.Current? {
        guard let image = try await registry.image(repository: repository.path, tag: tag, architecture: architecture) else { return nil }
        return TagPlanner.Current(imageID: image.configDigest, labels: image.labels)
    }

    /// What `reference` names now: its image, version label and content hash.
    private func state(of reference: String) async throws -> TagPlanner.Current? {
        guard let image = try await engine.inspectImage(reference) else { return nil }
        return TagPlanner.Current(imageID: image.id, labels: image.labels)
    }

    /// The release image of a layer: its built image with the release's labels (``LabelStamp``).
    func stamp(_ layer: LayerPlan) async throws -> ImageID {
        try await LabelStamp.stamp(layer, labels: options.info.labels, engine: engine(for: layer.platform))
    }

    /// Puts tags back as they were: moved ones to their old image, created ones removed.
    private func restore(_ applied: [TagOutcome]) async -> [String] {
        var restored: [String] = []
        for outcome in applied.reversed() {
            switch outcome.action {
            case .move(let previous):
                if (try? await engine.tag(previous, repository: outcome.repository, tag: outcome.tag)) != nil {
                    restored.append("\(outcome.reference) → \(previous.short) again")
                }
            case .create:
                if (try? await engine.removeImage(outcome.reference, noPrune: true)) != nil {
                    restored.append("\(outcome.reference) removed")
                }
            case .keep:
                break
            }
        }
        return restored
    }
}
