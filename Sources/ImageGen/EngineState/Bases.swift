import ContainerBasics
import DockerEngine
import Planning
import ImageGenValues
import Recipes

/// The external images a plan's layers are built on, each resolved once per platform on the
/// engine that builds that platform: its identity (what a built layer records), and what `FROM`
/// names for it. The one place engine state and builds both learn their bases from.
public struct ResolvedBases: Sendable {
    public struct Base: Sendable, Equatable {
        public var identity: String
        /// What a platform's build is `FROM` (a digest its registry named, or the reference).
        public var from: String
    }

    /// By ``PlatformBases/key(_:_:)``: the reference, or `reference@platform`.
    public private(set) var results: [String: Result<Base, BaseMissing>] = [:]

    public struct BaseMissing: Error, Sendable, Equatable {
        public var message: String
    }

    public subscript(_ reference: ImageReference, _ platform: Platform?) -> Result<Base, BaseMissing>? {
        results[PlatformBases.key(reference, platform)]
    }

    /// Resolves the bases of `layers` (their root images), pulling missing ones when `pull`, and
    /// a platform's base (pinned by the digest its registry's index names) when
    /// `pullPlatformBases`, as a build does whatever `--pull` says. `resolved` hears of each base
    /// found (for progress).
    public static func resolve(
        _ layers: [LayerPlan], engine: (Platform?) -> DockerEngine, pull: Bool, pullPlatformBases: Bool,
        resolved: @Sendable (String, String) -> Void = { _, _ in }
    ) async throws -> ResolvedBases {
        var bases = ResolvedBases()
        var single: [ImageReference] = []
        for layer in layers where layer.platform == nil && !single.contains(layer.layer.rootImage) { single.append(layer.layer.rootImage) }
        if !single.isEmpty {
            for (reference, resolution) in try await BaseImages.resolve(single, engine: engine(nil), pull: pull, resolved: resolved) {
                switch resolution {
                case .resolved(let identity): bases.results[PlatformBases.key(reference, nil)] = .success(Base(identity: identity, from: reference.description))
                case .missing(let message): bases.results[PlatformBases.key(reference, nil)] = .failure(BaseMissing(message: message))
                }
            }
        }
        for layer in layers {
            guard let platform = layer.platform else { continue }
            let reference = layer.layer.rootImage
            let key = PlatformBases.key(reference, platform)
            guard bases.results[key] == nil else { continue }
            switch try await PlatformBases.resolve(reference, platform: platform, engine: engine(platform), pull: pullPlatformBases) {
            case .resolved(let base):
                bases.results[key] = .success(Base(identity: base.identity, from: base.from))
                resolved("\(reference) (\(platform))", base.identity)
            case .missing(let message):
                bases.results[key] = .failure(BaseMissing(message: message))
            }
        }
        return bases
    }
}

/// A layer on one platform: how Build, Verify, EngineState and Release key what they know of it.
public struct LayerKey: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var name: String
    public var platform: Platform?

    public init(_ name: String, _ platform: Platform? = nil) {
        self.name = name
        self.platform = platform
    }

    /// `base`, or `base@linux/arm64`.
    public var description: String { Platform.qualified(name, platform) }

    public static func < (lhs: LayerKey, rhs: LayerKey) -> Bool { lhs.description < rhs.description }
}

extension LayerPlan {
    public var key: LayerKey { LayerKey(name, platform) }
}
