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

/// Publishes one tag for several platforms: each platform's image is pushed by its engine under
/// a platform tag (`<tag>-<arch>`; the engine pushes only tags), then one OCI image index listing
/// every platform's manifest is written under the tag itself, through the registry API (an engine
/// cannot write one). A classic image store keeps one image per tag, so this is how a base made
/// offline for two platforms becomes one `FROM` that works for both.
public struct ImageIndexPublisher: Sendable {
    public struct Image: Sendable {
        public var platform: Platform
        /// The image in `engine`, by reference or ID.
        public var source: String
        public var engine: DockerEngine

        public init(platform: Platform, source: String, engine: DockerEngine) {
            self.platform = platform
            self.source = source
            self.engine = engine
        }
    }

    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public let repository: Repository
    public let auth: RegistryAuth

    public init(repository: Repository, auth: RegistryAuth) {
        self.repository = repository
        self.auth = auth
    }

    public static func make(_ repository: Repository, environment: [String: String] = ProcessInfo.processInfo.environment) async -> ImageIndexPublisher {
        ImageIndexPublisher(repository: repository, auth: await RegistryCredentials.resolve(registry: repository.registry ?? "docker.io", environment: environment))
    }

    var client: RegistryClient { RegistryCredentials.client(host: repository.registry ?? "docker.io", auth: auth) }

    /// The platform tag of `tag` for `platform`: `1.2.3-arm64`.
    public static func platformTag(_ tag: Tag, _ platform: Platform) throws -> Tag {
        let text = String("\(tag.value)-\(platform.slug)".prefix(128))
        do { return try Tag(parsing: text) } catch { throw Failure(description: "\(text) is not a valid tag: \(error)") }
    }

    /// Pushes each image under its platform tag and returns the index entries (nothing is written
    /// under `tag` itself yet).
    public func pushPlatforms(_ images: [Image], tag: Tag, progress: @Sendable (String) -> Void = { _ in }) async throws -> [ImageIndexEntry] {
        var entries: [ImageIndexEntry] = []
        for image in images {
            guard let inspect = try await image.engine.inspectImage(image.source) else {
                throw Failure(description: "\(image.source) is not in the engine")
            }
            guard inspect.architecture == image.platform.architecture, (inspect.os ?? "linux") == image.platform.os else {
                throw Failure(description: "\(image.source) is a \(inspect.platform) image, not \(image.platform)")
            }
            let platformTag = try Self.platformTag(tag, image.platform)
            try await image.engine.tag(inspect.id, repository: repository, tag: platformTag)
            progress("pushing \(repository.reference(platformTag)) (\(image.platform))")
            try await image.engine.push(repository, tag: platformTag, registryAuth: auth.header)
            guard let (descriptor, _) = try await client.rawManifest(repository: repository.path, reference: platformTag.value) else {
                throw Failure(description: "\(repository.reference(platformTag)) is not in the registry after its push")
            }
            entries.append(ImageIndexEntry(manifest: descriptor, os: image.platform.os, architecture: image.platform.architecture, variant: image.platform.variant))
        }
        return entries
    }

    /// Writes the index of `entries` under `tag`.
    @discardableResult
    public func writeIndex(_ entries: [ImageIndexEntry], tag: Tag, annotations: [String: String] = [:]) async throws -> RegistryClient.Descriptor {
        try await client.pushIndex(repository: repository.path, tag: tag.value, entries: entries, annotations: annotations)
    }

    /// Both steps: the platform images, then the index.
    @discardableResult
    public func publish(_ images: [Image], tag: Tag, progress: @Sendable (String) -> Void = { _ in }) async throws -> RegistryClient.Descriptor {
        let entries = try await pushPlatforms(images, tag: tag, progress: progress)
        return try await writeIndex(entries, tag: tag)
    }
}

extension ImageIndexPublisher.Failure: ClassifiedError {
    public var exitStatus: ExitStatus { .failed }
}
