import DockerEngine
import ContainerBasics
import ImageGenValues
import BuildContext
import Recipes
import Planning
import LayerInspection
import RegistryCache
import ContainerRegistry

/// How `imagegen build` runs.
public struct BuildOptions: Sendable {
    public enum BuilderChoice: String, Sendable, CaseIterable {
        /// What the engine advertises in `Builder-Version` (classic when it says nothing).
        case auto
        case classic
        case buildkit
    }

    /// Build these layers and what they need (all layers when empty).
    public var layers: [String] = []
    /// Ignore imagegen's cache and the engine's layer cache.
    public var noCache = false
    /// Layers built at the same time, at most.
    public var jobs = 2
    public var builder: BuilderChoice = .auto
    /// Pull external base images that are missing (off: say how to get them instead).
    public var pull = false
    /// Resource limits for `RUN` steps.
    public var limits = BuildLimits()
    /// Certificates (PEM) that builder stages trust when installing pip and npm packages, for
    /// a TLS-intercepting proxy. Never in an image, and not a hash input.
    public var buildCA: [UInt8]?
    /// The registry where built layers live: a layer it holds is decided from its manifest and
    /// pulled only when a layer built on it (or copying from it) needs it here; what is built, or
    /// cached here but missing there, is pushed (read-write caches).
    public var cache: RegistryCacheSession?
    /// With a cache: pull every layer it holds into the engine (as `docker pull` would), not only
    /// those that a build needs.
    public var load = false
    /// Seconds to wait for another run's build of the same layer (see ``BuildLock``) before
    /// failing the layer.
    public var lockTimeout: Double = 3600

    public init() {}

    func builderVersion(ping: EnginePing) -> BuildParameters.Builder {
        switch builder {
        case .classic: return .classic
        case .buildkit: return .buildkit
        case .auto: return ping.builderVersion == "2" ? .buildkit : .classic
        }
    }
}
