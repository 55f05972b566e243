import ContainerRegistry
import DockerEngine
import Foundation
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection

/// A cache in use for one run: the registry client and push credentials, and whether the cache
/// answered. The cache is an optimization and never a failure: the first problem with it gives
/// one warning, and from then on the run goes on without it.
public actor RegistryCacheSession {
    public nonisolated let cache: RegistryCache
    package nonisolated let client: RegistryClient
    private let auth: RegistryAuth
    private var unavailable: String?
    private var warned = false
    /// Each repository's empty config blob upload, and each artifact's, made once per session
    /// (see ``emptyConfig(client:repository:)``).
    var emptyConfigPushes: [String: Task<RegistryClient.Descriptor, any Error>] = [:]
    var artifactPushes: [String: Task<Void, any Error>] = [:]
    private var hits: [String: ImageReference] = [:]
    private var hitImages: [ImageReference: ImageID] = [:]

    /// What the cache holds for a layer.
    public enum Lookup: Sendable, Equatable {
        /// The layer's image is there, for this content hash and base.
        case hit(ImageReference)
        case miss
        /// A tag with this hash that was made from something else (another base, other labels):
        /// not taken, and not overwritten.
        case conflict(String)
    }

    public static func open(_ cache: RegistryCache, environment: [String: String] = ProcessInfo.processInfo.environment) async -> RegistryCacheSession {
        let auth = await RegistryCredentials.resolve(registry: cache.host, environment: environment)
        return RegistryCacheSession(cache: cache, auth: auth)
    }

    init(cache: RegistryCache, auth: RegistryAuth, transport: (any RegistryTransport)? = nil) {
        self.cache = cache
        self.auth = auth
        self.client = RegistryCredentials.client(host: cache.host, auth: auth, transport: transport)
    }

    /// The warning to give once, after the cache first failed (nil if it did not, or was said).
    public func takeWarning() -> String? {
        guard let unavailable, !warned else { return nil }
        warned = true
        return "the cache \(cache) is not used (\(unavailable)); going on without it"
    }

    func disable(_ reason: String) {
        if unavailable == nil { unavailable = Redactor.redact(reason) }
    }

    public var isAvailable: Bool { unavailable == nil }

    /// Whether the cache has the layer's image for `baseIdentity`.
    public func lookup(_ layer: LayerPlan, baseIdentity: String) async -> Lookup {
        guard unavailable == nil else { return .miss }
        let repository = cache.repository(of: layer.imageName)
        // A hit stays one (cache tags are never overwritten): the prefetch's lookup serves the
        // layer's own. A miss is asked again, since another runner may have pushed it meanwhile.
        let key = repository.reference(layer.tag) + " " + baseIdentity
        if let hit = hits[key] { return .hit(hit) }
        do {
            guard let image = try await client.image(repository: repository.path, tag: layer.tag) else { return .miss }
            guard image.labels[ImageLabels.contentHash] == layer.contentHash.hex else {
                return .conflict("\(repository.reference(layer.tag)) carries another content hash")
            }
            guard image.labels[ImageLabels.baseImage] == baseIdentity else {
                return .conflict("\(repository.reference(layer.tag)) was built on another base (\(BaseIdentity.short(image.labels[ImageLabels.baseImage] ?? "none")))")
            }
            let hit = ImageReference(repository, tag: layer.tag)
            hits[key] = hit
            hitImages[hit] = image.configDigest
            return .hit(hit)
        } catch {
            disable("\(error)")
            return .miss
        }
    }

    /// The image ID (config digest) of a hit this session looked up.
    public func imageID(of hit: ImageReference) -> ImageID? { hitImages[hit] }

    /// Pulls a hit ahead of its turn, under the cache's name only (``pull(_:for:baseIdentity:engine:)``
    /// tags it later); false if the pull did not happen. It never turns the cache off: the
    /// layer's own pull reports what went wrong.
    public func prefetch(_ hit: ImageReference, engine: DockerEngine) async -> Bool {
        guard unavailable == nil else { return false }
        return (try? await engine.pull(hit, registryAuth: auth.header)) != nil
    }

    /// Pulls a hit and tags it as the layer's local image; the image, or nil (with the cache
    /// then off) when the pull failed or what came is not what the registry said.
    public func pull(_ hit: ImageReference, for layer: LayerPlan, baseIdentity: String, engine: DockerEngine) async throws -> ImageInspect? {
        do {
            try await engine.pull(hit, registryAuth: auth.header)
        } catch let error as DockerEngineError {
            guard error.isRefusal else { throw error }
            disable("pulling \(hit): \(error)")
            return nil
        }
        guard let image = try await engine.inspectImage(hit),
            image.labels[ImageLabels.contentHash] == layer.contentHash.hex, image.labels[ImageLabels.baseImage] == baseIdentity
        else {
            disable("\(hit) did not hold what its labels said")
            return nil
        }
        try await engine.tag(image.id, repository: layer.imageName, tag: layer.tag)
        // The cache's name for it is not needed here; the image stays under the layer's own.
        try? await engine.removeImage(hit, noPrune: true)
        return image
    }

    /// Pushes a layer just built, unless the cache is read-only, or its tag there already names
    /// something (never overwritten). The reference pushed, or nil.
    public func push(_ layer: LayerPlan, image: ImageID, baseIdentity: String, engine: DockerEngine) async throws -> ImageReference? {
        guard cache.mode == .readwrite, unavailable == nil else { return nil }
        switch await lookup(layer, baseIdentity: baseIdentity) {
        case .hit, .conflict: return nil
        case .miss: break
        }
        guard unavailable == nil else { return nil }
        let repository = cache.repository(of: layer.imageName)
        let reference = ImageReference(repository, tag: layer.tag)
        do {
            try await engine.tag(image, repository: repository, tag: layer.tag)
            try await engine.push(repository, tag: layer.tag, registryAuth: auth.header)
        } catch let error as DockerEngineError {
            try? await engine.removeImage(reference, noPrune: true)
            guard error.isRefusal else { throw error }
            disable("pushing \(reference): \(error)")
            return nil
        }
        try? await engine.removeImage(reference, noPrune: true)
        return reference
    }
}
