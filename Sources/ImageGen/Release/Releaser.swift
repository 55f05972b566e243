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
        /// With `push`: attach an SBOM, the verify report and this provenance to each pushed
        /// image manifest (nil: attach nothing).
        public var provenance: ReleaseProvenance?
        /// The cache registry: verify reuses the results it keeps, and with `push`, layers only it
        /// holds are released in the registry without a pull (``RegistryTagPublisher``), else
        /// pulled into the engine first.
        public var cache: RegistryCacheSession?

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
        /// What was attached to each pushed manifest (`reference@digest: sbom, verify, provenance`).
        public var attestations: [String] = []

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
            return try plan.releaseRepository(of: layer, registry: prefix)
        } catch {
            throw .refused("--registry \(prefix): \(error)")
        }
    }

    /// A layer's tags for this release (its `tags:`, the recipe's, or the defaults), exact first.
    func tags(of layer: LayerPlan) -> (exact: [Tag], floating: [Tag]) {
        plan.releaseTags(of: layer, version: options.info.version)
    }

    /// The release, for one platform or several: verify every platform, decide every tag from
    /// what the engine and the registry hold, make the release images, then write the tags all at
    /// the end. Where the tags go is the publisher's (``EngineTagPublisher``, ``IndexTagPublisher``).
    public func run() async throws -> Report {
        var report = Report(recipe: plan.name, info: options.info, dryRun: options.dryRun)
        var kind: any ReleasePublisher.Type = plan.isMultiPlatform ? IndexTagPublisher.self : EngineTagPublisher.self
        if let refusal = kind.refusal(for: self) {
            report.failure = refusal
            return report
        }

        // 1. Every layer of every platform built and verified, or nothing happens.
        report.verify = try await verifyEveryPlatform()
        guard let verification = report.verify, verification.passed else {
            let checks = report.verify?.checks ?? []
            report.failure = "verify failed (\(checks.filter { !$0.passed }.count) of \(checks.count) checks): nothing was tagged"
            return report
        }

        // Layers only the cache holds: released in the registry, or pulled for the engine's tags.
        if let cache = options.cache, !options.dryRun {
            if try await RegistryTagPublisher.applies(to: self, cache: cache) {
                kind = RegistryTagPublisher.self
            } else if plan.isMultiPlatform, RegistryTagPublisher.stampsFromCache(self) {
                // The index publisher makes in the registry each platform's image the engine lacks.
            } else {
                for (platform, platformPlan) in plan.perPlatform {
                    for (layer, from) in try await cache.restore(platformPlan.layers, of: platformPlan, engine: engine(for: platform)) {
                        progress("[\(layer.displayName)] pulled from \(from)")
                    }
                }
            }
        }

        // With --push (always, for indexes) the registry is the truth about what is released: a
        // fresh CI runner's engine has no tags, and deciding from it alone could move `latest` backwards.
        var registry: ReleaseRegistry?
        if kind.readsRegistry(self) {
            let auth = await RegistryCredentials.resolve(registry: registryHost)
            registry = ReleaseRegistry(auth: auth, client: RegistryCredentials.client(host: registryHost, auth: auth))
            progress("reading the release's tags in \(registryHost)")
        }
        let publisher = kind.init(releaser: self, registry: registry)

        // 2. Exact tags: refuse before touching anything if one names another image, here or in
        //    the registry. The first exact tag decides whether the layer is released already.
        var releases: [LayerRelease]
        do {
            releases = try await decide(publisher: publisher, registry: registry, report: &report)
        } catch let refusal as ReleaseError {
            report.failure = refusal.description
            report.tags = []
            return report
        }

        // 3. The release images: the built image plus the release's labels, a layer with no files,
        //    so the content-hash images (and the cache) are untouched; or, for a version released
        //    before, that very image.
        var images = ReleaseImages()
        if options.dryRun {
            for release in releases { images.targets[release.name] = release.released }
        } else {
            do {
                images = try await publisher.makeImages(releases)
            } catch let failure as PublishFailure {
                report.failure = failure.message
                return report
            }
        }

        // 4. Floating tags: forward only.
        for index in releases.indices {
            try await decideFloating(releases[index], target: images.targets[releases[index].name], publisher: publisher, report: &report)
        }
        // Layer by layer, exact tags first, each in its template's order.
        let order = Dictionary(uniqueKeysWithValues: releases.enumerated().map { ($1.name, $0) })
        let tagOrder = Dictionary(
            uniqueKeysWithValues: releases.map { release in
                (release.name, Dictionary((release.exactTags + release.floatingTags).enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first }))
            })
        report.tags.sort { (order[$0.layer] ?? 0, tagOrder[$0.layer]?[$0.tag] ?? 0) < (order[$1.layer] ?? 0, tagOrder[$1.layer]?[$1.tag] ?? 0) }
        if options.dryRun { return report }

        // 5. The tags, all at the end.
        try await publisher.publish(&report, releases: releases, images: images)

        // 6. What is inside, how it was checked and how it was built, attached to what was pushed.
        if options.push, report.succeeded, let provenance = options.provenance, let registry {
            do {
                report.attestations = try await attest(releases, registry: registry, verification: verification, provenance: provenance)
            } catch {
                report.failure = "attaching the SBOM, verify report and provenance failed: \(error); the release's tags are pushed"
            }
        }
        return report
    }

    /// Verify on every platform's engine, one report.
    private func verifyEveryPlatform() async throws -> VerifyReport {
        let platforms = plan.isMultiPlatform ? " (\(plan.platforms.map(\.description).joined(separator: ", ")))" : ""
        progress("verifying \(plan.layers.count) layers\(platforms)")
        var verifyOptions = Verifier.Options()
        verifyOptions.probeTimeout = options.probeTimeout
        verifyOptions.sharedIndex = options.cache
        verifyOptions.notes = progress
        var verification = VerifyReport(recipe: plan.name, layers: [])
        for (platform, platformPlan) in plan.perPlatform {
            verification.layers += try await Verifier(engine: engine(for: platform), plan: platformPlan, options: verifyOptions).run().layers
        }
        return verification
    }

    /// The released layers, their tags and what the registry holds under them; the exact tags'
    /// outcomes in the report.
    private func decide(publisher: any ReleasePublisher, registry: ReleaseRegistry?, report: inout Report) async throws -> [LayerRelease] {
        let version = options.info.version
        let referencePlatform = plan.platforms.contains(.host) ? Platform.host : plan.platforms.first
        var releases: [LayerRelease] = []
        for name in plan.layerNames where plan.layer(named: name)?.layer.spec.release == true {
            let layers = plan.layers.filter { $0.name == name }
            let reference = layers.first { $0.platform == referencePlatform } ?? layers[0]
            var (exactTags, floatingTags) = tags(of: reference)
            if type(of: publisher).onlyFirstTagIsExact {
                // An index is pushed under the first exact tag (its platforms under `<tag>-<arch>`);
                // further exact tags get that index as floating tags do.
                guard let first = exactTags.first else {
                    throw ReleaseError.refused(
                        "layer '\(name)': a multi-platform release needs a tag template with {version} (its platforms are pushed as <tag>-<arch>)")
                }
                floatingTags = Array(exactTags.dropFirst()) + floatingTags
                exactTags = [first]
            }
            let repository = try repository(of: reference)
            var release = LayerRelease(
                name: name, layers: layers, reference: reference, repository: repository, exactTags: exactTags, floatingTags: floatingTags)
            if let registry {
                let architecture = reference.platform?.architecture ?? RegistryClient.architecture
                for tag in exactTags + floatingTags {
                    do {
                        release.remote[tag] = try await registryState(registry.client, repository: repository, tag: tag, architecture: architecture)
                    } catch let error as RegistryError {
                        throw ReleaseError.registry("cannot read \(repository.reference(tag)) in the registry: \(error); nothing was tagged", cause: error)
                    }
                }
            }
            for (index, tag) in exactTags.enumerated() {
                var current = try await publisher.current(tag, of: release)
                if let remote = release.remote[tag] {
                    _ = try TagPlanner.exact(tag, repository: repository, version: version, contentHash: reference.contentHash, current: remote, place: " in the registry")
                    if current == nil, index == 0 {
                        // Released from another machine: this run's tags name that very image.
                        current = remote
                        release.pullsRelease = true
                    }
                }
                let action = try TagPlanner.exact(tag, repository: repository, version: version, contentHash: reference.contentHash, current: current)
                if index == 0, case .keep = action, let current { release.released = current.imageID }
                report.tags.append(TagOutcome(layer: name, repository: repository, tag: tag, action: action, image: current?.imageID))
            }
            releases.append(release)
        }
        return releases
    }

    /// The exact tags' images settled on the release image, and the floating tags decided.
    private func decideFloating(_ release: LayerRelease, target: ImageID?, publisher: any ReleasePublisher, report: inout Report) async throws {
        let version = options.info.version
        for index in report.tags.indices where report.tags[index].layer == release.name && release.exactTags.contains(report.tags[index].tag) {
            // A second exact tag already on this release's image is kept; a new one names it.
            if case .keep = report.tags[index].action, report.tags[index].image != target, target != nil { report.tags[index].action = .create }
            report.tags[index].image = target
        }
        for tag in release.floatingTags {
            if let remote = release.remote[tag], let newer = remote.version, newer.comparePrecedence(version) > 0 {
                report.tags.append(
                    TagOutcome(
                        layer: release.name, repository: release.repository, tag: tag,
                        action: .keep("stays at \(newer) in the registry, which is newer"), image: remote.imageID))
                continue
            }
            let current = try await publisher.current(tag, of: release)
            var action = TagPlanner.floating(tag, version: version, target: target, current: current)
            // In a dry run the release image does not exist yet; a tag already on this version of
            // this content is what a real run would keep.
            if options.dryRun, case .move = action, let current, current.version == version, current.contentHash == release.reference.contentHash {
                action = .keep("already there")
            }
            let image: ImageID? = if case .keep = action { current?.imageID ?? target } else { target }
            report.tags.append(TagOutcome(layer: release.name, repository: release.repository, tag: tag, action: action, image: image))
        }
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

    /// The release image of a layer: its built image with the release's labels (``LabelStamp``).
    func stamp(_ layer: LayerPlan) async throws -> ImageID {
        try await LabelStamp.stamp(layer, labels: options.info.labels, engine: engine(for: layer.platform))
    }
}
