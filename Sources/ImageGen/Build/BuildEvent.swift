import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry
import DockerEngine
/// Progress of a build, one event at a time, for the terminal, CI logs or JSON.
public enum BuildEvent: Sendable, Equatable {
    /// The layers this run will consider, in build order.
    case planned(layers: [String])
    /// An external base image was resolved to its identity.
    case baseResolved(reference: String, identity: String)
    case started(layer: String)
    /// Already built for these content hashes; nothing uploaded.
    case cached(layer: String, imageID: ImageID)
    /// Not here but in the cache registry: pulled, not built.
    case pulled(layer: String, imageID: ImageID, from: String)
    /// In the cache registry for its content hash and base: decided from its manifest, not pulled
    /// (a layer built on it pulls it then, or `--load` pulls every one).
    case inRegistry(layer: String, imageID: ImageID, at: String)
    /// Built, then pushed to the cache registry under its content-hash tag.
    case pushed(layer: String, reference: String)
    /// The cache registry did not answer or refused; the run goes on without it.
    case cacheWarning(message: String)
    /// The build context upload began (bytes of files in it).
    case uploading(layer: String, bytes: Int64)
    case step(layer: String, index: Int, total: Int, instruction: String)
    case output(layer: String, line: String)
    case built(layer: String, imageID: ImageID, seconds: Double)
    case failed(layer: String, message: String, step: String?, lastLines: [String], seconds: Double)
    /// Not built because a layer it needs failed (or its base is missing).
    case skipped(layer: String, reason: String)

    public var layer: String? {
        switch self {
        case .planned, .baseResolved, .cacheWarning: nil
        case .started(let layer), .cached(let layer, _), .pulled(let layer, _, _), .inRegistry(let layer, _, _), .pushed(let layer, _), .uploading(let layer, _),
            .step(let layer, _, _, _),
            .output(let layer, _),
            .built(let layer, _, _), .failed(let layer, _, _, _, _), .skipped(let layer, _):
            layer
        }
    }
}

/// What happened to one layer.
public struct LayerOutcome: Sendable, Equatable {
    public enum State: String, Sendable {
        case cached, pulled, built, failed, skipped
        /// In the cache registry, not in the engine (nothing pulled).
        case inRegistry = "in-registry"

        /// The layer's image exists, here or in the cache registry.
        public var isAvailable: Bool { [.cached, .pulled, .built, .inRegistry].contains(self) }
    }

    public var layer: String
    /// The platform, for a multi-platform recipe.
    public var platform: Platform? = nil
    public var reference: ImageReference
    public var state: State
    public var imageID: ImageID?
    public var size: Int64?
    public var seconds: Double
    public var message: String?

    /// `base`, or `base@linux/arm64`.
    public var displayName: String { Platform.qualified(layer, platform) }
}

/// The result of a build run.
public struct BuildReport: Sendable {
    public var outcomes: [LayerOutcome]
    /// `POST /build` calls made (0 when everything was cached).
    public var uploads: Int
    public var builder: String
    /// Why the run used that builder (`--builder auto` says what decided it).
    public var builderReason = ""

    public var succeeded: Bool { outcomes.allSatisfy(\.state.isAvailable) }
    public func outcome(_ layer: String, platform: Platform? = nil) -> LayerOutcome? {
        outcomes.first { $0.layer == layer && (platform == nil || $0.platform == platform) }
    }
}
