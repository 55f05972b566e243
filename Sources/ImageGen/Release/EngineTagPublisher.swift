import ContainerBasics
import ContainerRegistry
import DockerEngine
import Planning

/// A single-platform release: the tags are the engine's, written all at the end and put back on
/// any failure, then pushed with `--push`. With `--push` the registry's tags are read too, so a
/// version released from another machine is pulled, not made again.
struct EngineTagPublisher: ReleasePublisher {
    static func refusal(for releaser: Releaser) -> String? { nil }
    static func readsRegistry(_ releaser: Releaser) -> Bool { releaser.options.push }
    static var onlyFirstTagIsExact: Bool { false }

    let releaser: Releaser
    let registry: ReleaseRegistry?
    var engine: DockerEngine { releaser.engine }

    init(releaser: Releaser, registry: ReleaseRegistry?) {
        self.releaser = releaser
        self.registry = registry
    }

    /// What the tag names in the engine: its image, version label and content hash.
    func current(_ tag: Tag, of release: LayerRelease) async throws -> TagPlanner.Current? {
        guard let image = try await engine.inspectImage(release.repository.reference(tag)) else { return nil }
        return TagPlanner.Current(imageID: image.id, labels: image.labels)
    }

    func makeImages(_ releases: [LayerRelease]) async throws -> ReleaseImages {
        var images = ReleaseImages()
        for release in releases {
            if release.pullsRelease, let tag = release.exactTags.first {
                releaser.progress("pulling \(release.repository.reference(tag)), released before")
                try await engine.pull(ImageReference(release.repository, tag: tag), registryAuth: registry?.auth.header)
                images.targets[release.name] = try await current(tag, of: release)?.imageID ?? release.released
            } else if let released = release.released {
                images.targets[release.name] = released
            } else {
                releaser.progress("stamping \(release.reference.reference) with version \(releaser.options.info.version)")
                images.targets[release.name] = try await releaser.stamp(release.reference)
            }
        }
        return images
    }

    func publish(_ report: inout Releaser.Report, releases: [LayerRelease], images: ReleaseImages) async throws {
        // Tags, all at the end; on any failure every tag moved or created here is put back.
        var applied: [Releaser.TagOutcome] = []
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
            return
        }

        // Push every tag that now names this release's image.
        guard releaser.options.push, let registry else { return }
        releaser.progress("pushing to \(releaser.registryHost) (\(registry.auth))")
        for index in report.tags.indices {
            let outcome = report.tags[index]
            // A floating tag that stays on a newer version is not this release's to push.
            guard outcome.image != nil, outcome.image == images.targets[outcome.layer] else { continue }
            do {
                releaser.progress("pushing \(outcome.reference)")
                try await engine.push(outcome.repository, tag: outcome.tag, registryAuth: registry.auth.header)
                report.tags[index].pushed = true
            } catch let error as DockerEngineError {
                report.pushedBeforeFailure = report.tags.filter(\.pushed).map(\.reference)
                report.restored = await restore(applied)
                report.failure = "pushing \(outcome.reference) failed: \(error); every local tag moved in this run was put back"
                return
            }
        }
    }

    /// Puts tags back as they were: moved ones to their old image, created ones removed.
    private func restore(_ applied: [Releaser.TagOutcome]) async -> [String] {
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
