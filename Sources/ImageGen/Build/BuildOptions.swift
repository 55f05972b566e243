import DockerEngine
import Foundation
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
        /// BuildKit wherever the engine's BuildKit can build the run (as the docker CLI chooses
        /// since 23.0); classic with a stated reason (see ``chooseBuilder(ping:environment:)``).
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

    /// The builder of the run and why it is that one.
    public func chooseBuilder(ping: EnginePing, environment: [String: String] = ProcessInfo.processInfo.environment) -> (BuildParameters.Builder, String) {
        switch builder {
        case .classic: return (.classic, "--builder classic")
        case .buildkit: return (.buildkit, "--builder buildkit")
        case .auto: break
        }
        if ping.builderVersion == "1" { return (.classic, "the engine announces the classic builder (Builder-Version: 1)") }
        if let value = environment["DOCKER_BUILDKIT"], ["0", "false"].contains(value.lowercased()) { return (.classic, "DOCKER_BUILDKIT=\(value)") }
        if let api = ping.apiVersion, api < APIVersion(1, 39) {
            return (.classic, "the engine's API \(api) predates BuildKit builds (1.39)")
        }
        if limits != BuildLimits() {
            return (.classic, "resource limits are set (--memory, --cpus…), which the engine's BuildKit does not apply to RUN steps")
        }
        return (.buildkit, "the engine's BuildKit")
    }
}
