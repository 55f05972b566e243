import ContainerBasics
import ContainerRegistry
import DockerEngine
import Planning

/// A multi-platform release: each release tag becomes one OCI image index in the registry, listing
/// every platform's release image; the engine cannot write one, so the registry client does.
/// Tags are decided on the index's entry for this machine's platform (else the recipe's first),
/// each platform's image is pushed under `<tag>-<arch>` first (or, where its engine lacks it and
/// the cache has it, made in the registry without a pull, as
/// ``RegistryTagPublisher`` does), and the index tags are written only at the end.
struct IndexTagPublisher: ReleasePublisher {
    static func refusal(for releaser: Releaser) -> String? {
        guard releaser.options.push || releaser.options.dryRun, !releaser.prefix.isEmpty else {
            return "a multi-platform release is an image index, which only a registry holds: give --push --registry HOST[/NAMESPACE] (or --dry-run with --registry)"
        }
        return nil
    }
    static func readsRegistry(_ releaser: Releaser) -> Bool { true }
    static var onlyFirstTagIsExact: Bool { true }

    let releaser: Releaser
    let registry: ReleaseRegistry

    init(releaser: Releaser, registry: ReleaseRegistry?) {
        self.releaser = releaser
        // readsRegistry is always true: the Releaser gives one.
        self.registry = registry!
    }

    /// What the tag names in the registry (read once, by the Releaser).
    func current(_ tag: Tag, of release: LayerRelease) async throws -> TagPlanner.Current? { release.remote[tag] }

    /// Each platform's release image, pushed under its platform tag (`<version>-<arch>`): made
    /// in its engine and pushed, or, where the engine lacks it and the cache has it, made in the
    /// registry without a pull (``RegistryTagPublisher/stamp``).
    func makeImages(_ releases: [LayerRelease]) async throws -> ReleaseImages {
        var images = ReleaseImages()
        do {
            let cachedOnly = try await RegistryTagPublisher.cachedOnly(releases.filter { $0.released == nil }.flatMap(\.layers), of: releaser)
            for release in releases {
                if let released = release.released {
                    images.targets[release.name] = released
                    continue
                }
                let indexPublisher = ImageIndexPublisher(repository: release.repository, auth: registry.auth)
                var entries: [ImageIndexEntry] = []
                for layer in release.layers {
                    let platform = layer.platform ?? release.reference.platform ?? .host
                    let id: ImageID
                    if let source = cachedOnly[layer.key], let cache = releaser.options.cache {
                        releaser.progress("stamping \(source) with version \(releaser.options.info.version) in \(releaser.registryHost)")
                        let made = try await RegistryTagPublisher.stamp(
                            source, from: cache.client, into: release.repository, client: registry.client, info: releaser.options.info)
                        let platformTag = try ImageIndexPublisher.platformTag(release.exactTags[0], platform)
                        releaser.progress("tagging \(release.repository.reference(platformTag)) (\(platform))")
                        let stored = try await registry.client.pushManifest(
                            repository: release.repository.path, reference: platformTag.value, mediaType: made.manifest.mediaType, body: made.manifest.body)
                        entries.append(ImageIndexEntry(manifest: stored, os: platform.os, architecture: platform.architecture, variant: platform.variant))
                        id = made.image
                    } else {
                        releaser.progress("stamping \(layer.displayName) with version \(releaser.options.info.version)")
                        id = try await releaser.stamp(layer)
                        entries += try await indexPublisher.pushPlatforms(
                            [.init(platform: platform, source: id.description, engine: releaser.engine(for: layer.platform))], tag: release.exactTags[0],
                            progress: releaser.progress)
                    }
                    if layer.platform == release.reference.platform { images.targets[release.name] = id }
                }
                images.platformEntries[release.name] = entries
            }
        } catch let failure as ImageIndexPublisher.Failure {
            throw PublishFailure(message: "\(failure); no release tag was written")
        } catch let error as RegistryError {
            throw PublishFailure(message: "making a platform's release image in the registry failed: \(error); no release tag was written (platform tags already pushed stay)")
        } catch let error as DockerEngineError {
            guard error.isRefusal else { throw error }
            throw PublishFailure(message: "pushing a platform's image failed: \(error); no release tag was written (platform tags already pushed stay)")
        }
        return images
    }

    /// The indexes, all at the end.
    func publish(_ report: inout Releaser.Report, releases: [LayerRelease], images: ReleaseImages) async throws {
        for index in report.tags.indices {
            let outcome = report.tags[index]
            guard let release = releases.first(where: { $0.name == outcome.layer }) else { continue }
            if case .keep = outcome.action { continue }
            do {
                releaser.progress("writing the image index \(outcome.reference) (\(release.platforms))")
                if let entries = images.platformEntries[outcome.layer] {
                    report.tags[index].index = try await ImageIndexPublisher(repository: release.repository, auth: registry.auth)
                        .writeIndex(entries, tag: outcome.tag).digest
                } else {
                    // The version was released before: the floating tag gets that very index.
                    let exactTag = release.exactTags[0]
                    guard let (descriptor, body) = try await registry.client.rawManifest(repository: release.repository.path, reference: exactTag.value)
                    else { continue }
                    try await registry.client.pushManifest(
                        repository: release.repository.path, reference: outcome.tag.value, mediaType: descriptor.mediaType, body: body)
                    report.tags[index].index = descriptor.digest
                }
                report.tags[index].pushed = true
            } catch {
                report.pushedBeforeFailure = report.tags.filter(\.pushed).map(\.reference)
                report.failure = "writing \(outcome.reference) failed: \(error)"
                return
            }
        }
    }
}
