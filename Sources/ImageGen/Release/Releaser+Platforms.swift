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

/// A release of a multi-platform recipe: each release tag becomes one OCI image index in the
/// registry, listing every platform's release image; the engine cannot write one, so the registry
/// client does. The rules are the single-platform ones: every platform verified first, a released
/// version never moved, floating tags only forward (decided, like the content check, on the
/// index's entry for this machine's platform, else the recipe's first), and the index tags written
/// only at the end, after every platform's image is in the registry.
extension Releaser {
    func runMultiPlatform() async throws -> Report {
        var report = Report(recipe: plan.name, info: options.info, dryRun: options.dryRun)
        let version = options.info.version
        guard (options.push || options.dryRun), !prefix.isEmpty else {
            report.failure = "a multi-platform release is an image index, which only a registry holds: give --push --registry HOST[/NAMESPACE] (or --dry-run with --registry)"
            return report
        }

        // 1. Every layer of every platform verified, or nothing happens.
        progress("verifying \(plan.layers.count) layers (\(plan.platforms.map(\.description).joined(separator: ", ")))")
        var verification = VerifyReport(recipe: plan.name, layers: [])
        for (platform, platformPlan) in plan.perPlatform {
            var verifyOptions = Verifier.Options()
            verifyOptions.probeTimeout = options.probeTimeout
            verification.layers += try await Verifier(engine: engine(for: platform), plan: platformPlan, options: verifyOptions).run().layers
        }
        report.verify = verification
        guard verification.passed else {
            let failed = verification.checks.filter { !$0.passed }
            report.failure = "verify failed (\(failed.count) of \(verification.checks.count) checks): nothing was tagged"
            return report
        }

        // 2. What the registry holds for each layer's tags, read on the reference platform's entry.
        let auth = await RegistryCredentials.resolve(registry: registryHost)
        let registry = RegistryCredentials.client(host: registryHost, auth: auth)
        let referencePlatform = plan.platforms.contains(.host) ? Platform.host : plan.platforms[0]
        progress("reading the release's tags in \(registry.host)")
        struct LayerRelease {
            var name: String
            var layers: [LayerPlan]
            var repository: Repository
            var reference: LayerPlan
            var exactTag: Tag
            var floatingTags: [Tag]
            var exact: TagPlanner.Action
            var remoteExact: TagPlanner.Current?
            var remoteFloating: [Tag: TagPlanner.Current] = [:]
        }
        var releases: [LayerRelease] = []
        do {
            for name in plan.layerNames where plan.layer(named: name)?.layer.spec.release == true {
                let layers = plan.layers.filter { $0.name == name }
                let reference = layers.first { $0.platform == referencePlatform } ?? layers[0]
                // The index is pushed under the first exact tag (its platforms under `<tag>-<arch>`);
                // further exact tags get that index as floating tags do.
                let (exactTags, floating) = tags(of: reference)
                guard let exactTag = exactTags.first else {
                    throw ReleaseError.refused("layer '\(name)': a multi-platform release needs a tag template with {version} (its platforms are pushed as <tag>-<arch>)")
                }
                let floatingTags = Array(exactTags.dropFirst()) + floating
                let architecture = reference.platform?.architecture ?? RegistryClient.architecture
                let repository = try repository(of: reference)
                let remote = try await registryState(registry, repository: repository, tag: exactTag, architecture: architecture)
                let action = try TagPlanner.exact(
                    exactTag, repository: repository, version: version, contentHash: reference.contentHash, current: remote, place: " in the registry")
                var release = LayerRelease(
                    name: name, layers: layers, repository: repository, reference: reference, exactTag: exactTag, floatingTags: floatingTags,
                    exact: action, remoteExact: remote)
                for tag in floatingTags { release.remoteFloating[tag] = try await registryState(registry, repository: repository, tag: tag, architecture: architecture) }
                releases.append(release)
            }
        } catch let refusal as ReleaseError {
            report.failure = refusal.description
            return report
        } catch let error as RegistryError {
            report.failure = "cannot read the release's tags in the registry: \(error); nothing was tagged"
            return report
        }

        // 3. Each platform's release image, pushed under its platform tag (`<version>-<arch>`).
        var entries: [String: [ImageIndexEntry]] = [:]
        var targets: [String: ImageID] = [:]
        if !options.dryRun {
            do {
                for release in releases {
                    guard case .create = release.exact else {
                        if let current = release.remoteExact { targets[release.name] = current.imageID }
                        continue
                    }
                    var images: [ImageIndexPublisher.Image] = []
                    for layer in release.layers {
                        progress("stamping \(layer.displayName) with version \(version)")
                        let id = try await stamp(layer)
                        if layer.platform == release.reference.platform { targets[release.name] = id }
                        images.append(.init(platform: layer.platform ?? referencePlatform, source: id.description, engine: engine(for: layer.platform)))
                    }
                    entries[release.name] = try await ImageIndexPublisher(repository: release.repository, auth: auth).pushPlatforms(
                        images, tag: release.exactTag, progress: progress)
                }
            } catch let failure as ImageIndexPublisher.Failure {
                report.failure = "\(failure); no release tag was written"
                return report
            } catch let error as DockerEngineError {
                guard error.isRefusal else { throw error }
                report.failure = "pushing a platform's image failed: \(error); no release tag was written (platform tags already pushed stay)"
                return report
            }
        }

        // 4. The tags: the exact one, then the floating ones, forward only.
        for release in releases {
            let target = targets[release.name]
            report.tags.append(
                TagOutcome(
                    layer: release.name, repository: release.repository, tag: release.exactTag, action: release.exact,
                    image: release.remoteExact?.imageID ?? target))
            for tag in release.floatingTags {
                let current = release.remoteFloating[tag]
                var action = TagPlanner.floating(tag, version: version, target: target, current: current)
                if options.dryRun, case .move = action, let current, current.version == version, current.contentHash == release.reference.contentHash {
                    action = .keep("already there")
                }
                let image: ImageID? = if case .keep = action { current?.imageID ?? target } else { target }
                report.tags.append(TagOutcome(layer: release.name, repository: release.repository, tag: tag, action: action, image: image))
            }
        }
        if options.dryRun { return report }

        // 5. The indexes, all at the end.
        let publisherFor = { (repository: Repository) in ImageIndexPublisher(repository: repository, auth: auth) }
        for index in report.tags.indices {
            let outcome = report.tags[index]
            guard let release = releases.first(where: { $0.name == outcome.layer }) else { continue }
            switch outcome.action {
            case .keep: continue
            case .create, .move: break
            }
            do {
                progress("writing the image index \(outcome.reference) (\(release.layers.compactMap(\.platform).map(\.description).joined(separator: ", ")))")
                if let platformEntries = entries[outcome.layer] {
                    report.tags[index].index = try await publisherFor(release.repository).writeIndex(platformEntries, tag: outcome.tag).digest
                } else {
                    // The version was released before: the floating tag gets that very index.
                    guard let (descriptor, body) = try await registry.rawManifest(repository: release.repository.path, reference: release.exactTag.value) else { continue }
                    try await registry.pushManifest(repository: release.repository.path, reference: outcome.tag.value, mediaType: descriptor.mediaType, body: body)
                    report.tags[index].index = descriptor.digest
                }
                report.tags[index].pushed = true
            } catch {
                report.pushedBeforeFailure = report.tags.filter(\.pushed).map(\.reference)
                report.failure = "writing \(outcome.reference) failed: \(error)"
                return report
            }
        }
        return report
    }
}
