import ContainerBasics
import ContainerRegistry
import DockerEngine
import Foundation
import ImageGenValues
import Planning
import RegistryCache

/// A single-platform `release --push` of layers the engine does not have but the cache registry
/// does: written in the release's registry without pulling anything into the engine. Each release
/// image is the cached image's manifest with a new config (the release labels, a history entry,
/// `created` set to the release's time, so the same release makes the same image wherever it
/// runs), its layers mounted from the cache repository when the cache is on the same registry
/// (else, or where the registry declines a mount, copied a chunk at a time), and the manifest
/// stored by digest; the tags are manifest PUTs, all at the end.
struct RegistryTagPublisher: ReleasePublisher {
    static func refusal(for releaser: Releaser) -> String? { nil }
    static func readsRegistry(_ releaser: Releaser) -> Bool { true }
    static var onlyFirstTagIsExact: Bool { false }

    static let manifestTypes = ["application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json"]

    let releaser: Releaser
    let registry: ReleaseRegistry

    init(releaser: Releaser, registry: ReleaseRegistry?) {
        self.releaser = releaser
        // readsRegistry is always true: the Releaser gives one.
        self.registry = registry!
    }

    /// Whether a release can stamp images in its registry from the cache: it is pushed, with a cache.
    static func stampsFromCache(_ releaser: Releaser) -> Bool {
        releaser.options.push && releaser.options.cache != nil
    }

    /// The cached images of those of `layers` a pushed release should stamp in the registry: their
    /// engine does not have them built and the cache does (one check per platform's engine).
    static func cachedOnly(_ layers: [LayerPlan], of releaser: Releaser) async throws -> [LayerKey: ImageReference] {
        guard stampsFromCache(releaser), let cache = releaser.options.cache else { return [:] }
        var found: [LayerKey: ImageReference] = [:]
        for (platform, platformLayers) in Dictionary(grouping: layers, by: \.platform) {
            let state = try await EngineState.check(
                releaser.plan.forPlatform(platform), layers: platformLayers, engine: releaser.engine(for: platform), cache: cache)
            for layer in platformLayers {
                if case .built? = state.layers[layer.key] { continue }
                if case .hit(let source)? = state.cached[layer.key] { found[layer.key] = source }
            }
        }
        return found
    }

    /// Whether this release can be written in the registry alone: pushed, single-platform, and
    /// every released layer in the cache with one of them missing from the engine (when all are
    /// here, the engine's tags are pushed as before).
    static func applies(to releaser: Releaser, cache: RegistryCacheSession) async throws -> Bool {
        guard !releaser.plan.isMultiPlatform, stampsFromCache(releaser) else { return false }
        let released = releaser.plan.layers.filter { $0.layer.spec.release }
        let state = try await EngineState.check(releaser.plan, layers: released, engine: releaser.engine, cache: cache)
        var missing = false
        for layer in released {
            if case .built? = state.layers[layer.key] { continue }
            guard case .hit? = state.cached[layer.key] else { return false }
            missing = true
        }
        return missing
    }

    /// What the tag names in the registry (read once, by the Releaser).
    func current(_ tag: Tag, of release: LayerRelease) async throws -> TagPlanner.Current? { release.remote[tag] }

    func makeImages(_ releases: [LayerRelease]) async throws -> ReleaseImages {
        var images = ReleaseImages()
        guard let cache = releaser.options.cache else { throw PublishFailure(message: "no cache registry to release from") }
        let state = try await EngineState.check(releaser.plan, layers: releases.map(\.reference), engine: releaser.engine, cache: cache)
        for release in releases {
            if let released = release.released {
                images.targets[release.name] = released
                continue
            }
            guard case .hit(let source)? = state.cached[release.reference.key] else {
                throw PublishFailure(message: "\(release.reference.reference) is no longer in the cache \(cache.cache): nothing was tagged")
            }
            releaser.progress("stamping \(source) with version \(releaser.options.info.version) in \(releaser.registryHost)")
            do {
                let made = try await Self.stamp(source, from: cache.client, into: release.repository, client: registry.client, info: releaser.options.info)
                images.targets[release.name] = made.image
                images.manifests[release.name] = made.manifest
            } catch let error as RegistryError {
                throw PublishFailure(message: "making the release image of \(release.name) in the registry failed: \(error); nothing was tagged")
            }
        }
        return images
    }

    /// The release image of the cached image `source` (read through `cacheClient`), stored in
    /// `repository` by digest (no tag) through `client`.
    static func stamp(
        _ source: ImageReference, from cacheClient: RegistryClient, into repository: Repository, client: RegistryClient, info: ReleaseInfo
    )
        async throws -> (image: ImageID, manifest: ReleaseImages.Manifest)
    {
        let from = source.repository.path
        guard let tag = source.tag?.value, let (descriptor, body) = try await cacheClient.rawManifest(repository: from, reference: tag, accept: Self.manifestTypes),
            Self.manifestTypes.contains(descriptor.mediaType), let manifest = try? JSONValue(parsing: body), var document = manifest.objectValue,
            let configEntry = manifest["config"], let configDigest = configEntry["digest"]?.stringValue.flatMap({ try? Digest(parsing: $0) }),
            let configType = configEntry["mediaType"]?.stringValue
        else {
            throw RegistryError.unexpected(registry: client.host, what: "the manifest of \(source)", reason: "not a single image manifest")
        }
        guard let configBytes = try await cacheClient.blob(repository: from, digest: configDigest, limit: 16 << 20) else {
            throw RegistryError.unexpected(registry: client.host, what: "the config of \(source)", reason: "its blob is missing")
        }
        let stamped = try Self.stampConfig(configBytes, info: info)
        let config = try await client.pushBlob(repository: repository.path, bytes: stamped, mediaType: configType)
        for layer in manifest["layers"]?.arrayValue ?? [] {
            guard let digest = layer["digest"]?.stringValue.flatMap({ try? Digest(parsing: $0) }) else { continue }
            if cacheClient.host == client.host {
                try await client.mountBlob(repository: repository.path, digest: digest, from: from)
            } else {
                try await client.copyBlob(digest, from: cacheClient, repository: from, into: repository.path)
            }
        }
        document["config"] = config.json
        let bytes = Array(JSONValue.object(document).canonical.utf8)
        let stored = try await client.pushManifest(repository: repository.path, reference: Digest.sha256(of: bytes).description, mediaType: descriptor.mediaType, body: bytes)
        return (config.digest, ReleaseImages.Manifest(mediaType: stored.mediaType, body: bytes))
    }

    /// An image config with the release's labels, `created` and a history line saying so.
    static func stampConfig(_ bytes: [UInt8], info: ReleaseInfo) throws -> [UInt8] {
        guard var config = try JSONValue(parsing: bytes).objectValue else {
            throw RegistryError.unexpected(registry: "", what: "an image config", reason: "not a JSON object")
        }
        var inner = config["config"]?.objectValue ?? [:]
        var labels = inner["Labels"]?.objectValue ?? [:]
        let added = info.labels.sorted { $0.key < $1.key }
        for (key, value) in added { labels[key] = .string(value) }
        inner["Labels"] = .object(labels)
        config["config"] = .object(inner)
        config["created"] = .string(info.created)
        let line = "LABEL " + added.map { "\($0.key)=\(JSONValue.quoted($0.value))" }.joined(separator: " ") + " # imagegen release"
        config["history"] = .array(
            (config["history"]?.arrayValue ?? []) + [["created": .string(info.created), "created_by": .string(line), "empty_layer": .bool(true)]])
        return Array(JSONValue.object(config).canonical.utf8)
    }

    func publish(_ report: inout Releaser.Report, releases: [LayerRelease], images: ReleaseImages) async throws {
        releaser.progress("tagging in \(releaser.registryHost) (\(registry.auth))")
        for index in report.tags.indices {
            let outcome = report.tags[index]
            guard outcome.image != nil, outcome.image == images.targets[outcome.layer] else { continue }
            switch outcome.action {
            case .keep: continue
            case .create, .move: break
            }
            do {
                let manifest: ReleaseImages.Manifest
                if let made = images.manifests[outcome.layer] {
                    manifest = made
                } else {
                    // A version released before: its manifest, under this tag too.
                    guard let tag = releases.first(where: { $0.name == outcome.layer })?.exactTags.first,
                        let (descriptor, body) = try await registry.client.rawManifest(repository: outcome.repository.path, reference: tag.value, accept: Self.manifestTypes)
                    else { continue }
                    manifest = ReleaseImages.Manifest(mediaType: descriptor.mediaType, body: body)
                }
                releaser.progress("tagging \(outcome.reference)")
                try await registry.client.pushManifest(repository: outcome.repository.path, reference: outcome.tag.value, mediaType: manifest.mediaType, body: manifest.body)
                report.tags[index].pushed = true
            } catch let error as RegistryError {
                report.pushedBeforeFailure = report.tags.filter(\.pushed).map(\.reference)
                report.failure = "tagging \(outcome.reference) in the registry failed: \(error)"
                return
            }
        }
    }
}
